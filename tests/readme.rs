//! The README is the crate's page on crates.io, which shows its code blocks as they are: they must
//! have no hidden `# ` lines (rustdoc's), so they are complete programs. Those are doctests
//! (`ReadmeDoctests` in `src/lib.rs`); the one block that is not (it needs the `critical-section`
//! feature) must be the doctested example in the `Channel` docs.

const README: &str = include_str!("../README.md");
const STATIC_CHANNEL: &str = include_str!("../src/static_channel.rs");

/// Every fenced code block of `markdown`: its info string and its lines.
fn code_blocks(markdown: &str) -> Vec<(&str, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let body = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push((info, body));
        }
    }
    blocks
}

#[test]
fn readme_rust_blocks_have_no_hidden_lines() {
    let rust_blocks: Vec<_> = code_blocks(README)
        .into_iter()
        .filter(|(info, _)| info.starts_with("rust"))
        .collect();
    assert!(
        rust_blocks.len() >= 4,
        "the README's examples were not found"
    );
    for (info, body) in rust_blocks {
        for line in body {
            assert!(
                !(line == "#" || line.starts_with("# ")),
                "a hidden line in a ```{info} block of the README: {line:?}"
            );
        }
    }
}

#[test]
fn readme_interrupt_example_is_the_doctested_one_in_the_channel_docs() {
    let ignored: Vec<_> = code_blocks(README)
        .into_iter()
        .filter(|(info, _)| *info == "rust,ignore")
        .collect();
    let [(_, readme)] = ignored.as_slice() else {
        panic!(
            "expected one `rust,ignore` block in the README, found {}",
            ignored.len()
        );
    };

    // The doc comments of `static_channel.rs`, as markdown, without rustdoc's hidden lines.
    let docs: String = STATIC_CHANNEL
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("///"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .filter(|l| !(*l == "#" || l.starts_with("# ")))
        .map(|l| format!("{l}\n"))
        .collect();
    let doctested = code_blocks(&docs)
        .into_iter()
        .map(|(_, body)| body)
        .find(|body| body.iter().any(|l| l.contains("static SAMPLES")))
        .expect("the interrupt example in the `Channel` docs");
    assert_eq!(
        readme, &doctested,
        "the README's interrupt example and the one in `Channel`'s docs differ"
    );
}
