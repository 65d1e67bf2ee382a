mod common;

use std::thread;

#[test]
fn threads_mpmc_exactly_once() {
    let (tx, rx) = rendez::channel::<u64>();
    let n = 4u64;
    let per = 2000u64;
    let mut hs = vec![];
    for s in 0..n {
        let tx = tx.clone();
        hs.push(thread::spawn(move || {
            for i in 0..per {
                tx.send_blocking(s * per + i).unwrap();
            }
        }));
    }
    drop(tx);
    let mut rs = vec![];
    for _ in 0..n {
        let rx = rx.clone();
        rs.push(thread::spawn(move || {
            let mut got = vec![];
            while let Ok(v) = rx.recv_blocking() {
                got.push(v);
            }
            got
        }));
    }
    drop(rx);
    for h in hs {
        h.join().unwrap();
    }
    let mut all: Vec<u64> = rs.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort();
    assert_eq!(all, (0..n * per).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_mpmc_exactly_once() {
    let (tx, rx) = rendez::channel::<u64>();
    let n = 4u64;
    let per = 2000u64;
    let mut hs = vec![];
    for s in 0..n {
        let tx = tx.clone();
        hs.push(tokio::spawn(async move {
            for i in 0..per {
                tx.send(s * per + i).await.unwrap();
            }
        }));
    }
    drop(tx);
    let mut rs = vec![];
    for _ in 0..n {
        let rx = rx.clone();
        rs.push(tokio::spawn(async move {
            let mut got = vec![];
            while let Ok(v) = rx.recv().await {
                got.push(v);
            }
            got
        }));
    }
    drop(rx);
    for h in hs {
        h.await.unwrap();
    }
    let mut all = vec![];
    for r in rs {
        all.extend(r.await.unwrap());
    }
    all.sort();
    assert_eq!(all, (0..n * per).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_blocking_and_async() {
    let (tx, rx) = rendez::channel::<u64>();
    let tx2 = tx.clone();
    let h = thread::spawn(move || {
        for i in 0..1000 {
            tx2.send_blocking(i).unwrap();
        }
    });
    let rx2 = rx.clone();
    let r = thread::spawn(move || {
        let mut c = 0;
        while rx2.recv_blocking().is_ok() {
            c += 1;
        }
        c
    });
    let t = tokio::spawn(async move {
        for i in 0..1000 {
            tx.send(i).await.unwrap();
        }
    });
    let mut c = 0;
    while rx.recv().await.is_ok() {
        c += 1;
    }
    h.join().unwrap();
    t.await.unwrap();
    c += r.join().unwrap();
    assert_eq!(c, 2000);
}
