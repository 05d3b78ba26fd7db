use std::process::ExitCode;

fn main() -> ExitCode {
    regis::cli::main()
}
