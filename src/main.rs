use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = gan_gpu::cli::Cli::parse();
    match gan_gpu::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
