//! Writing to stdout and stderr without panicking.
//!
//! Rust's `println!`/`eprintln!` panic when the write fails: `gan-gpu info | head -1` (a closed
//! pipe) or `gan-gpu info > /dev/full` (a full device). Every line the product prints goes
//! through [`outln!`](crate::outln) or [`errln!`](crate::errln) instead:
//!
//! - a closed pipe (EPIPE) ends the program quietly with status 141, what a Unix program killed
//!   by SIGPIPE reports; while `train` runs, it instead mutes all further output and asks the
//!   training loop to stop, save a checkpoint and then exit 141, so no work is lost;
//! - any other write error prints one line to stderr (if it still can) and exits with status 1.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit status after a closed pipe (128 + SIGPIPE).
pub const BROKEN_PIPE_STATUS: i32 = 141;

static DEFER_BROKEN_PIPE: AtomicBool = AtomicBool::new(false);
static PIPE_CLOSED: AtomicBool = AtomicBool::new(false);

/// While training: a closed pipe mutes output and sets [`pipe_closed`] instead of exiting.
pub fn defer_broken_pipe(defer: bool) {
    DEFER_BROKEN_PIPE.store(defer, Ordering::SeqCst);
}

/// Whether stdout or stderr turned out to be a closed pipe.
pub fn pipe_closed() -> bool {
    PIPE_CLOSED.load(Ordering::SeqCst)
}

#[derive(Clone, Copy, Debug)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Write `text` (and a newline if `newline`) to `stream`, handling failure as the module says.
pub fn write(stream: Stream, args: std::fmt::Arguments<'_>, newline: bool) {
    if pipe_closed() {
        return;
    }
    let result = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_fmt(args)
                .and_then(|()| {
                    if newline {
                        out.write_all(b"\n")
                    } else {
                        Ok(())
                    }
                })
                .and_then(|()| out.flush())
        }
        Stream::Stderr => {
            let mut err = std::io::stderr().lock();
            err.write_fmt(args)
                .and_then(|()| {
                    if newline {
                        err.write_all(b"\n")
                    } else {
                        Ok(())
                    }
                })
                .and_then(|()| err.flush())
        }
    };
    if let Err(error) = result {
        failed(stream, &error);
    }
}

fn failed(stream: Stream, error: &std::io::Error) {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        PIPE_CLOSED.store(true, Ordering::SeqCst);
        if DEFER_BROKEN_PIPE.load(Ordering::SeqCst) {
            return;
        }
        std::process::exit(BROKEN_PIPE_STATUS);
    }
    let name = match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    };
    // Best effort: stderr may be the stream that failed.
    let _ = writeln!(std::io::stderr(), "error: cannot write to {name}: {error}");
    std::process::exit(1);
}

/// `println!` that never panics (see the module docs).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write($crate::output::Stream::Stdout, format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::write($crate::output::Stream::Stdout, format_args!($($arg)*), true) };
}

/// `print!` that never panics.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write($crate::output::Stream::Stdout, format_args!($($arg)*), false) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! errln {
    () => { $crate::output::write($crate::output::Stream::Stderr, format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::write($crate::output::Stream::Stderr, format_args!($($arg)*), true) };
}
