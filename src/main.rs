//! The `annals` command line: parses arguments, calls the library, sets the exit code.

use annals::BuildOptions;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// annals: build a permanent, citable website from an archive of released documents.
#[derive(Parser, Debug)]
#[command(name = "annals", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the archive into a static website (by default in <root>/public).
    ///
    /// The previous site is replaced only if the whole build succeeds.
    Build(BuildArgs),
    /// Parse and validate every document and template; write nothing.
    Check(CommonArgs),
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// The archive's root folder, containing site.toml and content/.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Override site.toml's base_url, e.g. https://example.github.io/archive/
    #[arg(long)]
    base_url: Option<String>,
    /// Include documents marked `draft: true`.
    #[arg(long)]
    drafts: bool,
    /// A urls.json from an earlier build (path or http(s) URL, e.g. the live site's):
    /// fail if any URL published there would now be missing.
    #[arg(long, value_name = "PATH_OR_URL")]
    previous: Option<String>,
}

#[derive(Args, Debug)]
struct BuildArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Where to write the site [default: <root>/public].
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn options(common: CommonArgs, output: Option<PathBuf>) -> BuildOptions {
    BuildOptions {
        root: common.root,
        output,
        base_url: common.base_url,
        drafts: common.drafts,
        previous: common.previous,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (result, verb, quiet) = match cli.command {
        Command::Build(args) => (
            annals::build(&options(args.common, args.output)),
            "built",
            args.quiet,
        ),
        Command::Check(args) => (annals::check(&options(args, None)), "checked", false),
    };
    match result {
        Ok(report) => {
            if !quiet {
                println!(
                    "{verb} {} documents, {} pages in {:.2} s",
                    report.documents,
                    report.pages,
                    report.elapsed.as_secs_f64()
                );
            }
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            ExitCode::from(1)
        }
    }
}
