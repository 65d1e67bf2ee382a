# Sourced by .ci/flash-size and .ci/qemu-check: how a bare-metal example is built and linked.

# bare_metal_build TARGET EXAMPLE MEMORY_DIR [RUSTC_FLAG...]: builds examples/EXAMPLE.rs for
# TARGET in release with rendez's `critical-section` feature and no default features, links it
# with the runtime's link.x (cortex-m-rt or riscv-rt) and the memory.x in MEMORY_DIR, passing any
# further flags to the final rustc call; prints the path of the linked program. The link flags go
# on the final rustc call only (`cargo rustc ... -- <flags>`), so no .cargo/config.toml or build
# script is needed.
bare_metal_build() {
    local target=$1 example=$2 memory=$3
    shift 3
    cargo rustc --locked --quiet --release --target "$target" \
        --no-default-features --features critical-section \
        --example "$example" --message-format=json-render-diagnostics \
        -- -C link-arg=-Tlink.x -C "link-arg=-L$memory" -C link-arg=--nmagic "$@" |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}
