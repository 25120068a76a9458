//! `yuqing`: see `yuqing --help`. Everything lives in the `yuqing-daemon` library.

fn main() -> std::process::ExitCode {
    yuqing_daemon::cli::main()
}
