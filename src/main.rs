use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = gan_gpu::cli::Cli::parse();
    match gan_gpu::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            gan_gpu::errln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
