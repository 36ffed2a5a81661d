use clap::Parser;

fn main() {
    let cli = stripe_scan::cli::Cli::parse();
    std::process::exit(stripe_scan::app::run(cli));
}
