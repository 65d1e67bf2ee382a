//! `rx.recv().unwrap()`, the first thing a newcomer writes, fails to compile with an error that
//! says to `.await` the future (src/await_hint.rs), not only "no method named `unwrap`".
//!
//! The test builds a one-file crate that depends on this one and reads the compiler's errors.
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds a crate whose `main.rs` is `source` and returns what the compiler printed.
fn compile_errors(name: &str, source: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nrendez = {{ path = {:?} }}\n\n[workspace]\n",
        root.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/main.rs"), source).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline"])
        .current_dir(&dir)
        // One target directory for every such crate, so rendez is built for them once.
        .env(
            "CARGO_TARGET_DIR",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hint-target"),
        )
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(!out.status.success(), "{name} was expected not to compile");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
#[cfg_attr(miri, ignore = "runs cargo")]
fn result_methods_on_the_futures_say_to_await_them() {
    let errors = compile_errors(
        "await_hint_probe",
        r#"
async fn work(tx: rendez::Sender<u32>, rx: rendez::Receiver<u32>) {
    let _: () = tx.send(1).unwrap();
    let _: u32 = rx.recv().expect("a message");
    let _: bool = rx.recv().is_ok();
}
fn main() {
    let (tx, rx) = rendez::channel();
    drop(work(tx, rx));
}
"#,
    );
    for future in ["SendFut<'_, u32>", "RecvFut<'_, u32>"] {
        assert!(
            errors.contains(&format!("`{future}` is a future: `.await` it first")),
            "no hint for {future} in:\n{errors}"
        );
    }
    assert!(
        errors.contains("recv_blocking()"),
        "no thread hint in:\n{errors}"
    );
    assert_eq!(
        errors.matches("is a future: `.await` it first").count(),
        3,
        "{errors}"
    );
}
