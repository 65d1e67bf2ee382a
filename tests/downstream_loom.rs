//! A downstream crate that runs its own loom tests builds everything with `--cfg loom`; rendez
//! must stay usable there, with `Channel::new` a `const fn` for a `static` (its own model checking
//! uses `--cfg rendez_loom`). `.ci/run` builds and runs this file with `RUSTFLAGS="--cfg loom"`;
//! without that flag it runs as an ordinary test.

static CH: rendez::Channel<u32> = rendez::Channel::new();

#[test]
fn a_static_channel_builds_and_works_under_a_downstream_loom_cfg() {
    assert_eq!(CH.try_send(1), Err(rendez::TrySendError::Full(1)));
    assert_eq!(CH.try_recv(), Err(rendez::TryRecvError::Empty));
    assert!(CH.close());
}
