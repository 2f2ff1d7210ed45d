//! One plain line that names why a plugin trapped, read from what the guest printed before it
//! aborted: a Rust panic's message, the last exception of a Python traceback (componentize-py),
//! a JavaScript error (jco). The wasm backtrace is not a headline: it goes to the run's log.

/// The cause of a trap in one line: from the guest's `stderr` when it says, else the first line
/// of the trap's own `text` (a host fault, an unreachable, a bad access).
pub(crate) fn of_trap(stderr: &str, text: &str) -> String {
    python(stderr)
        .or_else(|| python_error(stderr))
        .or_else(|| rust_panic(stderr))
        .or_else(|| javascript(stderr))
        .unwrap_or_else(|| plain(text))
}

/// The final exception line of the last traceback: `TypeError: ...`.
fn python(stderr: &str) -> Option<String> {
    let (_, tail) = stderr.rsplit_once("Traceback (most recent call last):")?;
    tail.lines()
        .rfind(|l| !l.trim().is_empty() && !l.starts_with(' ') && !l.starts_with('\t'))
        .map(|l| format!("uncaught Python exception {}", l.trim()))
}

/// An exception componentize-py's runtime could not hand back, as its panic shows it:
/// `PyErr { type: <class 'TypeError'>, value: TypeError("..."), traceback: None }`. A host
/// error raised out of `run` lands here: `run` may only fail with a string.
fn python_error(stderr: &str) -> Option<String> {
    let (_, rest) = stderr.split_once("PyErr { type: <class '")?;
    let (kind, rest) = rest.split_once("'>")?;
    let value = rest
        .split_once("value: ")
        .map_or("", |(_, v)| v.split(", traceback:").next().unwrap_or(v));
    let message = value
        .strip_prefix(kind)
        .and_then(|v| v.strip_prefix('('))
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or(value)
        .trim_matches('"');
    let host_error = message
        .strip_prefix('\'')
        .and_then(|m| m.split_once("' object is not an instance of 'str'"))
        .map(|(class, _)| class)
        .filter(|class| class.starts_with("MagentoError_"));
    Some(match host_error {
        Some(class) => format!(
            "uncaught Python exception {kind}: {message} (the host error {class} was raised out of run uncaught: catch it, or raise Err with a message)"
        ),
        None => format!("uncaught Python exception {kind}: {message}"),
    })
}

/// `panicked at src/lib.rs:9:9: message` from Rust's panic hook.
fn rust_panic(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    let at = lines.find_map(|l| {
        let (_, rest) = l.split_once(" panicked at ")?;
        Some(rest.trim_end_matches(':').to_owned())
    })?;
    let message: Vec<&str> = lines
        .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace:"))
        .collect();
    Some(format!("panicked at {at}: {}", message.join(" ").trim()))
}

/// A thrown JavaScript error, `Error: message` or `TypeError: message`, with `Uncaught`
/// dropped.
fn javascript(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        let l = l.trim().trim_start_matches("Uncaught ").trim();
        let (kind, _) = l.split_once(": ")?;
        let named = kind.ends_with("Error") && kind.chars().all(|c| c.is_ascii_alphanumeric());
        named.then(|| format!("uncaught JavaScript {l}"))
    })
}

/// The first line of a trap's text, without the backtrace that follows.
fn plain(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    let first = first.split("wasm backtrace:").next().unwrap_or(first);
    let first = first.trim().trim_end_matches(':');
    if !first.is_empty() && first != "error while executing at" {
        return first.to_owned();
    }
    match text.split_once("wasm trap: ") {
        Some((_, cause)) => format!("wasm trap: {}", cause.lines().next().unwrap_or_default()),
        None => "the plugin aborted without a message".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_traceback_gives_its_last_exception() {
        let stderr = "Traceback (most recent call last):\n  File \"/app.py\", line 12, in run\n    \
                      customers.update(7, p)\n  File \"/wit.py\", line 3, in update\n\
                      componentize_py_types.Err: Err(value=MagentoError_Unavailable(value='503'))\n\n\
                      During handling of the above exception, another exception occurred:\n\n\
                      Traceback (most recent call last):\n  File \"/app.py\", line 20, in run\n\
                      TypeError: 'MagentoError_Unavailable' object is not an instance of 'str'\n";
        assert_eq!(
            of_trap(
                stderr,
                "error while executing at wasm backtrace:\n 0: libc.so!abort"
            ),
            "uncaught Python exception TypeError: 'MagentoError_Unavailable' object is not an instance of 'str'"
        );
    }

    #[test]
    fn a_host_error_raised_out_of_a_python_run_is_named() {
        let stderr = "\nthread '<unnamed>' (1) panicked at runtime/src/lib.rs:1494:89:\n\
                      called `Result::unwrap()` on an `Err` value: PyErr { type: <class 'TypeError'>, \
                      value: TypeError(\"'MagentoError_NotFound' object is not an instance of 'str'\"), traceback: None }\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            of_trap(stderr, "error while executing at wasm backtrace:"),
            "uncaught Python exception TypeError: 'MagentoError_NotFound' object is not an instance of 'str' \
             (the host error MagentoError_NotFound was raised out of run uncaught: catch it, or raise Err with a message)"
        );
    }

    #[test]
    fn a_rust_panic_gives_its_message_and_place() {
        let stderr = "\nthread '<unnamed>' panicked at tests/guests/trap/src/lib.rs:9:9:\n\
                      this plugin is broken on purpose\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            of_trap(stderr, "wasm trap: wasm `unreachable` instruction executed"),
            "panicked at tests/guests/trap/src/lib.rs:9:9: this plugin is broken on purpose"
        );
    }

    #[test]
    fn a_javascript_error_gives_its_message() {
        assert_eq!(
            of_trap(
                "Error: no customer 7\n    at run (app.js:3:9)\n",
                "unreachable"
            ),
            "uncaught JavaScript Error: no customer 7"
        );
    }

    #[test]
    fn without_a_guest_message_the_trap_speaks_in_one_line() {
        assert_eq!(
            of_trap(
                "",
                "host fault: the gateway answered customers.get with Done\n\nStack backtrace:\n 0: x"
            ),
            "host fault: the gateway answered customers.get with Done"
        );
        assert_eq!(
            of_trap(
                "",
                "error while executing at wasm backtrace:\n    0: 0x1 - abort\n\nCaused by:\n    wasm trap: wasm `unreachable` instruction executed"
            ),
            "wasm trap: wasm `unreachable` instruction executed"
        );
    }
}
