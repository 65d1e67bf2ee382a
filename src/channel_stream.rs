//! The stream of a static [`Channel`](crate::Channel): [`Channel::stream`](crate::Channel::stream).

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::message::RecvNode;
use crate::waiter::Owner;

pin_project! {
    /// The messages received on a [`Channel`](crate::Channel), as a [`Stream`] (and
    /// [`FusedStream`]) that ends once the channel is closed; made by
    /// [`Channel::stream`](crate::Channel::stream).
    ///
    /// It allocates nothing: its waiter node lives inside the stream value, linked into the
    /// channel's wait list while it waits. So the stream must not move while it may be linked:
    /// it is `!Unpin`, and is polled pinned, e.g. `let mut s = pin!(CH.stream());` and then
    /// `s.next().await` (`StreamExt::next` wants `Unpin`, which `Pin<&mut ChannelStream>` is).
    ///
    /// # Cancel safety
    ///
    /// Dropping a `next()` future loses no message: the stream takes one only inside the poll
    /// that returns it. Between polls that returned `Pending` its node stays in line, without
    /// holding other receives back: a message it was woken for goes to whichever receive polls
    /// first. Dropping the stream withdraws its node.
    ///
    /// ```
    /// use std::pin::pin;
    /// use futures::StreamExt;
    /// static CH: rendez::Channel<&str> = rendez::Channel::new();
    /// # futures::executor::block_on(async {
    /// let mut stream = pin!(CH.stream());
    /// let (got, sent) = futures::join!(stream.next(), CH.send("hi"));
    /// assert_eq!((got, sent), (Some("hi"), Ok(())));
    /// CH.close();
    /// assert_eq!(stream.next().await, None); // closed: the stream ends
    /// # });
    /// ```
    #[must_use = "streams do nothing unless you poll them, e.g. with `StreamExt::next(..).await`"]
    pub struct ChannelStream<'a, T, L: Lock = DefaultLock> {
        core: &'a Core<T, L>,
        // Whether it has returned `None`.
        terminated: bool,
        #[pin]
        waiter: RecvNode<T>,
    }

    impl<'a, T, L: Lock> PinnedDrop for ChannelStream<'a, T, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // An async node is never handed a message; a turn it was woken for passes on.
            drop(this.core.cancel_recv(this.waiter.as_ref()));
        }
    }
}

impl<'a, T, L: Lock> ChannelStream<'a, T, L> {
    /// A stream of the messages received on `core`.
    pub(crate) fn new(core: &'a Core<T, L>) -> Self {
        ChannelStream {
            core,
            terminated: false,
            waiter: RecvNode::new(Owner::Stream),
        }
    }
}

impl<T, L: Lock> Stream for ChannelStream<'_, T, L> {
    type Item = T;

    /// Polls for the next message; `None` once the channel is closed (and a held `try_send`
    /// message, if any, was taken).
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        if *this.terminated {
            return Poll::Ready(None);
        }
        match this.core.poll_recv(this.waiter.as_ref(), cx) {
            Poll::Ready(Ok(msg)) => Poll::Ready(Some(msg)),
            Poll::Ready(Err(_)) => {
                *this.terminated = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T, L: Lock> FusedStream for ChannelStream<'_, T, L> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<T, L: Lock> fmt::Debug for ChannelStream<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelStream")
            .field("waiting", &self.waiter.is_registered())
            .field("terminated", &self.terminated)
            .finish_non_exhaustive()
    }
}

// SAFETY: as for `RecvFut`: the node is reached by other threads only under the channel lock, and
// messages of type `T` move between threads; the core is shared (`Core: Sync` needs these bounds).
unsafe impl<T: Send, L: Lock + Sync> Send for ChannelStream<'_, T, L> {}
// SAFETY: `&ChannelStream` exposes only `Debug` and `is_terminated`, which read the owner-only
// flag and the node's atomic flag; polling needs `Pin<&mut ChannelStream>`.
unsafe impl<T: Send, L: Lock + Sync> Sync for ChannelStream<'_, T, L> {}
