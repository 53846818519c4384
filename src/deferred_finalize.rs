//! `stmt.finalize()` (bun face) called by a getter or Proxy trap while that
//! same statement binds the values of a call: bun:sqlite frees the statement
//! there and then, and the call throws "Statement has finalized". Here the
//! call holds the statement's state, so the request is noted and the call
//! itself finalizes once binding returns, before anything is stepped.

use std::cell::RefCell;

thread_local! {
    /// Statements binding values from JS now, innermost last, each with
    /// whether a finalize was requested meanwhile.
    static BINDING: RefCell<Vec<(f64, bool)>> = const { RefCell::new(Vec::new()) };
}

/// Pops the entry [`binding`] pushed, even if the binding panicked.
struct Entry;

impl Drop for Entry {
    fn drop(&mut self) {
        BINDING.with_borrow_mut(|stack| stack.pop());
    }
}

/// Runs `bind` for statement `id`, during which [`request`] for `id` is
/// accepted; returns what `bind` returned and whether a finalize was requested.
pub(crate) fn binding<T>(id: f64, bind: impl FnOnce() -> T) -> (T, bool) {
    BINDING.with_borrow_mut(|stack| stack.push((id, false)));
    let entry = Entry;
    let result = bind();
    let requested = BINDING.with_borrow(|stack| stack.last().is_some_and(|&(_, requested)| requested));
    drop(entry);
    (result, requested)
}

/// Asks the call binding statement `id`'s values to finalize it; `false` when
/// no call is binding them (the statement is busy in another way).
pub(crate) fn request(id: f64) -> bool {
    BINDING.with_borrow_mut(|stack| match stack.iter_mut().rev().find(|(binding, _)| *binding == id) {
        Some(entry) => {
            entry.1 = true;
            true
        }
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reaches_the_binding_of_that_statement_only() {
        assert!(!request(1.0));
        let ((inner, outer_request), requested) = binding(1.0, || {
            let inner = binding(2.0, || request(1.0));
            (inner, request(3.0))
        });
        assert_eq!(inner, (true, false), "the inner binding (2) was not asked; the outer (1) was");
        assert!(!outer_request);
        assert!(requested);
        assert!(!request(1.0), "nothing is binding any more");
    }

    #[test]
    fn a_panicking_binding_leaves_no_entry_behind() {
        let caught = std::panic::catch_unwind(|| binding(5.0, || panic!("getter")));
        assert!(caught.is_err());
        assert!(!request(5.0));
    }
}
