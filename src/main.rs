use clap::Parser;
use std::io::Write;

/// With glibc's allocator (whose malloc, free and consolidation took about 3% of the samples) a
/// run over tree200 took 3-4% longer and hist5k's history 5-11% longer. mimalloc's older v2 line
/// is as fast there and starts and exits faster than v3 (0.1 ms of a 4.5 ms pre-commit run).
/// `no_thp` stops it asking for transparent huge pages: a short run then zeroes 4 KiB pages as it
/// touches them, not 2 MiB ones, and hist5k's peak RSS falls from 116 to 67 MB (glibc: 62 MB).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // A bug must never print a panic message, which could quote the data being scanned: one line
    // instead, and exit 2, so a crash can never pass for a clean scan. STRIPE_SCAN_BACKTRACE=1
    // keeps the default report, for developers.
    if std::env::var_os("STRIPE_SCAN_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let _ = writeln!(
                std::io::stderr(),
                "stripe-scan: internal error{at} (a bug: please report it)"
            );
        }));
    }
    let cli = stripe_scan::cli::Cli::parse();
    let code =
        std::panic::catch_unwind(|| stripe_scan::run(cli)).unwrap_or(stripe_scan::exit::ERROR);
    std::process::exit(code);
}
