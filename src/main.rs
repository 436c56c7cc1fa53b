//! The `annals` command line: parses arguments, calls the library, sets the exit code.

/// The build allocates and frees millions of small strings from several threads;
/// mimalloc does that with less time and less fragmentation than the system
/// allocator (measured in the benchmark: CPU time and peak RSS both drop).
#[cfg(not(feature = "heap-stats"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The same allocator, counting live bytes for the stage lines (profiling builds:
/// `--features heap-stats`, see [`annals::heap`]).
#[cfg(feature = "heap-stats")]
#[global_allocator]
static ALLOCATOR: annals::heap::Counting<mimalloc::MiMalloc> =
    annals::heap::Counting(mimalloc::MiMalloc);

/// mimalloc's `mi_option_purge_delay` (its position in `mi_option_t` in the
/// bundled mimalloc 3 header; `libmimalloc-sys` does not name it).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

unsafe extern "C" {
    fn mi_option_set_default(option: std::ffi::c_int, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

/// mimalloc 3 keeps memory a thread has freed committed for a second before
/// returning it to the system, so the memory one stage has finished with still
/// counts while the next stage allocates its own, in other size classes or on
/// another thread. A tenth of a second lowers the peak of a 10k-document build
/// from about 470 MB to about 410 MB (100k: 3.6 -> 3.2 GB) for about 2% more
/// CPU time (`README.md`, "Figures"). Set as the default only: a purge delay
/// given in the environment (`MIMALLOC_PURGE_DELAY`, in any case, or its old
/// name `MIMALLOC_RESET_DELAY`) still wins.
fn return_freed_memory_sooner() {
    // SAFETY: called first thing in `main`, before any other thread exists
    // (mimalloc's option setters are not thread-safe); the option and value
    // are plain integers.
    unsafe { mi_option_set_default(MI_OPTION_PURGE_DELAY, 100) };
}

/// Linux backs large allocations with transparent huge pages (2 MB) where the
/// system allows it, and mimalloc asks for them: every first touch of one
/// clears 2 MB, much of it for vectors that grow and are freed within a stage.
/// Without them a 10k-document `annals check` spent 0.9 s instead of 2.0-2.3 s
/// in the kernel, the search stage took 0.85-0.96 s instead of 1.0-1.27 s and
/// the peak RSS was 368-395 MB instead of 410 MB (three runs each, interleaved,
/// `README.md`, "Figures"). Off for this process only, unless the environment
/// sets mimalloc's `MIMALLOC_ALLOW_THP` (in any case, as mimalloc reads it).
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        let chosen = std::env::vars_os().any(|(name, _)| {
            name.to_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("MIMALLOC_ALLOW_THP"))
        });
        if !chosen {
            // Only a tuning: a kernel without the setting builds the same site.
            let _ = rustix::thread::disable_transparent_huge_pages(true);
        }
    }
}

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
    /// Build, serve the site on 127.0.0.1 under its base path, rebuild on every
    /// change and reload open pages.
    Serve(ServeArgs),
    /// Create a new archive in DIR: site.toml, a sample document, a README for
    /// editors, the GitHub Pages workflow and the front-matter schema.
    Init {
        /// The folder to create (must be absent or empty).
        dir: PathBuf,
    },
    /// Write a document skeleton with a unique id under content/documents/<year>/.
    New(NewArgs),
    /// Print the JSON Schema (draft 2020-12) of document front matter.
    Schema {
        /// The archive's root folder (its site.toml adds taxonomy keys).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = annals::serve::DEFAULT_PORT)]
    port: u16,
    /// The address to listen on. Anything but a loopback address exposes the
    /// preview (drafts included) to the network.
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Where to write the preview [default: a folder in the system's temp directory].
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct NewArgs {
    /// The document's title.
    title: String,
    /// Its date: YYYY-MM-DD, YYYY-MM or YYYY [default: today].
    #[arg(long)]
    date: Option<String>,
    /// Its kind: note, briefing, letter, minutes, report, …
    #[arg(long = "type", value_name = "TYPE")]
    doc_type: Option<String>,
    /// The archive's root folder.
    #[arg(long, default_value = ".")]
    root: PathBuf,
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
    /// Show no progress: print only errors and the final summary line.
    #[arg(long, short)]
    quiet: bool,
}

/// Progress on standard error: nothing with `--quiet`, a bar on a terminal, plain stage
/// lines otherwise. `ANNALS_PROGRESS=none|lines|bar` overrides the choice.
fn progress_mode(quiet: bool) -> annals::Progress {
    use std::io::IsTerminal;
    match std::env::var("ANNALS_PROGRESS").as_deref() {
        Ok("none") => return annals::Progress::Quiet,
        Ok("lines") => return annals::Progress::Lines,
        Ok("bar") => return annals::Progress::Bar,
        _ => {}
    }
    if quiet {
        annals::Progress::Quiet
    } else if std::io::stderr().is_terminal() {
        annals::Progress::Bar
    } else {
        annals::Progress::Lines
    }
}

fn options(common: CommonArgs, output: Option<PathBuf>) -> BuildOptions {
    BuildOptions {
        root: common.root,
        output,
        base_url: common.base_url,
        drafts: common.drafts,
        progress: annals::Progress::Quiet,
        previous: common.previous,
    }
}

fn fail(diagnostics: &annals::diagnostics::Diagnostics) -> ExitCode {
    eprintln!("{diagnostics}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    return_freed_memory_sooner();
    no_transparent_huge_pages();
    let cli = Cli::parse();
    let (result, verb) = match cli.command {
        Command::Serve(args) => {
            let mut build = options(args.common, args.output);
            // Stage lines for every rebuild only when asked for: they would
            // bury the one line `serve` prints per rebuild.
            if std::env::var("ANNALS_PROGRESS").as_deref() == Ok("lines") {
                build.progress = annals::Progress::Lines;
            }
            let options = annals::serve::ServeOptions {
                build,
                bind: args.bind,
                port: args.port,
            };
            return match annals::serve::serve(&options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::from(1)
                }
            };
        }
        Command::Init { dir } => {
            return match annals::scaffold::init(&dir) {
                Ok(files) => {
                    println!("created an archive in {}:", dir.display());
                    for f in files {
                        println!("  {}", f.display());
                    }
                    println!("next: cd {} && annals serve", dir.display());
                    ExitCode::SUCCESS
                }
                Err(d) => fail(&d),
            };
        }
        Command::New(args) => {
            let request = annals::scaffold::NewDocument {
                root: args.root,
                title: args.title,
                date: args.date,
                doc_type: args.doc_type,
            };
            return match annals::scaffold::new_document(&request) {
                Ok(path) => {
                    println!("{}", path.display());
                    ExitCode::SUCCESS
                }
                Err(d) => fail(&d),
            };
        }
        Command::Schema { root } => {
            return match annals::scaffold::schema_for(&root) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(d) => fail(&d),
            };
        }
        Command::Build(args) => {
            let mut opts = options(args.common, args.output);
            opts.progress = progress_mode(args.quiet);
            (annals::build(&opts), "built")
        }
        Command::Check(args) => {
            let mut opts = options(args, None);
            opts.progress = progress_mode(false);
            (annals::check(&opts), "checked")
        }
    };
    let code = match result {
        Ok(report) => {
            // The summary line always, `--quiet` or not: it is the build's
            // result, not its progress.
            if report.up_to_date {
                println!(
                    "up to date: {} documents, {} pages, nothing changed ({:.2} s)",
                    report.documents,
                    report.pages,
                    report.elapsed.as_secs_f64()
                );
            } else {
                println!(
                    "{verb} {} documents, {} pages in {:.2} s",
                    report.documents,
                    report.pages,
                    report.elapsed.as_secs_f64()
                );
            }
            if report.host_less {
                eprintln!(
                    "note: the base URL has no host: feeds, citation exports and canonical links \
                     carry site-relative URLs and no sitemap is written; publish with a full \
                     base URL (https://…)"
                );
            }
            0
        }
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            1
        }
    };
    exit_at_once(code)
}

/// Ends the process as soon as its output is flushed. A build has written
/// and renamed every file it makes before it returns (a build that fails
/// removes its staging folder first), and the memory it still holds is the
/// system's to take back: left to the normal exit, mimalloc first walks and
/// frees all of it (about 12 ms of a 0.35 s rebuild at 10k documents).
fn exit_at_once(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(unix)]
    // SAFETY: `_exit` ends the process without running exit handlers; no
    // other thread writes anything that must survive (the one still freeing
    // the archive only frees memory).
    unsafe {
        libc::_exit(i32::from(code))
    }
    #[cfg(not(unix))]
    std::process::exit(i32::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is mimalloc's, not ours: if an upgrade renumbers its
    /// options, this fails instead of the build silently tuning another one.
    /// mimalloc 3's default purge delay (`src/options.c`; the header's comment
    /// still says 10) is 1000 ms.
    #[test]
    fn purge_delay_is_the_option_we_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading an option is thread-safe.
        let default = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000);
    }
}
