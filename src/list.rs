//! An intrusive, doubly linked FIFO of pinned [`Waiter`] nodes. It allocates nothing: the nodes
//! live in the futures (or on blocked threads' stacks) that wait.
//!
//! Every method must be called with the channel lock held; `&mut WaitList` inside the
//! lock-guarded exchange is how the code shows that.
//!
//! A node's `prev` is its neighbour nearer the front, except in the head, where it is stale and
//! never read: unlinking the front node (what `dispatch` and a receive taking an offer do) then
//! writes no other node, whose cache line is likely another core's.

use core::ptr::NonNull;

use crate::waiter::Waiter;

/// A FIFO of waiting nodes.
pub(crate) struct WaitList<S> {
    /// The node that has waited longest.
    head: Option<NonNull<Waiter<S>>>,
    /// The node that started waiting last.
    tail: Option<NonNull<Waiter<S>>>,
}

impl<S> WaitList<S> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        WaitList {
            head: None,
            tail: None,
        }
    }

    /// How many nodes are linked, counted by walking the list (for `Debug` and tests; the
    /// exchange counts the one list whose length it needs, see [`CountedList`]).
    pub(crate) fn count(&self) -> usize {
        let mut count = 0;
        let mut cursor = self.head;
        while let Some(node) = cursor {
            count += 1;
            // SAFETY: `node` is linked in this list.
            cursor = unsafe { self.next(node) };
        }
        count
    }

    /// Whether no node is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The node that has waited longest, left in place.
    pub(crate) fn front(&self) -> Option<NonNull<Waiter<S>>> {
        self.head
    }

    /// The node after `node`, nearer the back.
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    pub(crate) unsafe fn next(&self, node: NonNull<Waiter<S>>) -> Option<NonNull<Waiter<S>>> {
        // SAFETY: the caller guarantees `node` is in this list, so it is valid.
        unsafe { node.as_ref().links().next }
    }

    /// Links `node` at the back.
    ///
    /// # Safety
    ///
    /// `node` is in no list, and stays valid and unmoved until it is unlinked again (its owner
    /// unlinks it under the lock before it is dropped).
    pub(crate) unsafe fn push_back(&mut self, node: NonNull<Waiter<S>>) {
        // SAFETY: the caller guarantees `node` is valid; the lock gives us its links.
        unsafe {
            let mut links = node.as_ref().links();
            links.prev = self.tail;
            links.next = None;
        }
        match self.tail {
            // SAFETY: `tail` is linked, so it is valid (the push contract of every node).
            Some(tail) => unsafe { tail.as_ref().links().next = Some(node) },
            None => self.head = Some(node),
        }
        self.tail = Some(node);
    }

    /// Links `node` at the front: for a waiter that was already first in line and keeps its turn.
    ///
    /// # Safety
    ///
    /// As for [`WaitList::push_back`].
    pub(crate) unsafe fn push_front(&mut self, node: NonNull<Waiter<S>>) {
        // SAFETY: the caller guarantees `node` is valid; the lock gives us its links.
        unsafe {
            let mut links = node.as_ref().links();
            links.prev = None;
            links.next = self.head;
        }
        match self.head {
            // SAFETY: `head` is linked, so it is valid.
            Some(head) => unsafe { head.as_ref().links().prev = Some(node) },
            None => self.tail = Some(node),
        }
        self.head = Some(node);
    }

    /// Unlinks and returns the node that has waited longest.
    pub(crate) fn pop_front(&mut self) -> Option<NonNull<Waiter<S>>> {
        let node = self.head?;
        // SAFETY: `node` is linked, so it is valid and in this list.
        unsafe { self.remove(node) };
        Some(node)
    }

    /// Unlinks `node`.
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    // A call on bare metal: six critical sections unlink nodes, and each copy costs flash.
    #[cfg_attr(target_os = "none", inline(never))]
    pub(crate) unsafe fn remove(&mut self, node: NonNull<Waiter<S>>) {
        // SAFETY: the caller guarantees `node` is in this list, so it and its neighbours are valid.
        unsafe {
            let mut links = node.as_ref().links();
            if self.head == Some(node) {
                // The new head's `prev` is left as it is (a head's is never read): unlinking the
                // front, which most removals do, touches no other node.
                self.head = links.next;
                if links.next.is_none() {
                    self.tail = None;
                }
            } else {
                // Not the head, so `prev` is its neighbour nearer the front.
                let prev = links.prev;
                if let Some(prev) = prev {
                    prev.as_ref().links().next = links.next;
                }
                match links.next {
                    Some(next) => next.as_ref().links().prev = prev,
                    None => self.tail = prev,
                }
            }
            links.prev = None;
            links.next = None;
        }
    }
}

/// A [`WaitList`] that keeps its length: for the senders, whose number the exchange compares with
/// the notified receives on every operation. The other lists do without (a word each).
pub(crate) struct CountedList<S> {
    /// The nodes.
    list: WaitList<S>,
    /// How many nodes are linked.
    len: usize,
}

impl<S> CountedList<S> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        CountedList {
            list: WaitList::new(),
            len: 0,
        }
    }

    /// How many nodes are linked.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no node is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// See [`WaitList::front`].
    pub(crate) fn front(&self) -> Option<NonNull<Waiter<S>>> {
        self.list.front()
    }

    /// See [`WaitList::next`].
    ///
    /// # Safety
    ///
    /// As there.
    pub(crate) unsafe fn next(&self, node: NonNull<Waiter<S>>) -> Option<NonNull<Waiter<S>>> {
        // SAFETY: per the caller.
        unsafe { self.list.next(node) }
    }

    /// See [`WaitList::push_back`].
    ///
    /// # Safety
    ///
    /// As there.
    pub(crate) unsafe fn push_back(&mut self, node: NonNull<Waiter<S>>) {
        // SAFETY: per the caller.
        unsafe { self.list.push_back(node) };
        self.len += 1;
    }

    /// See [`WaitList::pop_front`].
    pub(crate) fn pop_front(&mut self) -> Option<NonNull<Waiter<S>>> {
        let node = self.list.pop_front()?;
        self.len -= 1;
        Some(node)
    }

    /// See [`WaitList::remove`].
    ///
    /// # Safety
    ///
    /// As there.
    pub(crate) unsafe fn remove(&mut self, node: NonNull<Waiter<S>>) {
        // SAFETY: per the caller.
        unsafe { self.list.remove(node) };
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::pin::pin;

    fn order(list: &mut WaitList<u32>) -> alloc::vec::Vec<u32> {
        let mut out = alloc::vec::Vec::new();
        while let Some(n) = list.pop_front() {
            // SAFETY: the test owns every node and nothing else touches them.
            out.push(unsafe { n.as_ref().state() });
        }
        out
    }

    #[test]
    fn fifo_front_and_remove_keep_links_consistent() {
        let a = pin!(Waiter::new(1u32, false));
        let b = pin!(Waiter::new(2u32, false));
        let c = pin!(Waiter::new(3u32, false));
        let d = pin!(Waiter::new(4u32, false));
        let (a, b, c, d) = (
            NonNull::from(&*a),
            NonNull::from(&*b),
            NonNull::from(&*c),
            NonNull::from(&*d),
        );
        let mut list = WaitList::new();
        // SAFETY: the nodes are pinned on this stack frame and outlive the list's use of them.
        unsafe {
            list.push_back(b);
            list.push_back(c);
            list.push_front(a);
            list.push_back(d);
            assert_eq!(list.count(), 4);
            list.remove(c);
            assert_eq!(list.count(), 3);
            assert_eq!(list.front(), Some(a));
        }
        assert_eq!(order(&mut list), [1, 2, 4]);
        assert!(list.is_empty());
        // SAFETY: as above; the list is empty again, so the nodes are in no list.
        unsafe {
            list.push_back(d);
            list.remove(d);
        }
        assert_eq!(list.count(), 0);
        assert!(list.is_empty() && list.front().is_none());
    }

    #[test]
    fn a_head_whose_prev_is_stale_unlinks_and_relinks_correctly() {
        let nodes = [1u32, 2, 3, 4].map(|n| Waiter::new(n, false));
        let [a, b, c, d] = [0, 1, 2, 3].map(|i| NonNull::from(&nodes[i]));
        let mut list = WaitList::new();
        // SAFETY: the nodes live in `nodes`, which outlives the list's use of them, and do not move.
        unsafe {
            for node in [a, b, c, d] {
                list.push_back(node);
            }
            // `b` becomes the head with its `prev` still naming `a`.
            assert_eq!(list.pop_front(), Some(a));
            // Removing the head must move the head on, not follow the stale `prev`.
            list.remove(b);
            assert_eq!(list.front(), Some(c));
            // `c` is the head now (stale `prev` again): a node behind it and the tail unlink too.
            list.remove(d);
            list.push_front(a);
            list.push_back(b);
        }
        assert_eq!(order(&mut list), [1, 3, 2]);
    }
}
