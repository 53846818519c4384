//! Live statements by id: what JS holds of a prepared statement is its id
//! (lib/native-statement.js), and every native function finds the statement's
//! state here. An id is a slot index with the slot's generation above it: a slot
//! is reused for a new statement only with the next generation, so an id that
//! was released never reaches another statement.

use std::cell::RefCell;
use std::rc::Rc;

use crate::errors::{Error, Result};
use crate::js::Js;
use crate::statement::Statement;
use crate::statement_class::State;

/// Bits of an id that hold the slot index; the slot's generation is above them.
const INDEX_BITS: u32 = 21;
/// Most statements alive at once on one thread.
const MAX_SLOTS: usize = 1 << INDEX_BITS;

/// One place for a statement: reused after its statement was released, with
/// the next generation, so that an old id never finds the new statement.
struct Slot {
    generation: u32,
    state: Option<Rc<RefCell<State>>>,
}

/// Live statements by id, so the hot functions take a number rather than a
/// wrapped object: no type-tag check, no unwrap, no napi-rs borrow registry.
#[derive(Default)]
struct Live {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

thread_local! {
    static LIVE: RefCell<Live> = RefCell::new(Live::default());
    /// The environment teardown hook of this thread is in place.
    static TEARDOWN_HOOKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Drop for Live {
    fn drop(&mut self) {
        // At thread exit the thread-locals a state's drop uses may be gone already
        // (dropping one then aborted the process): `release_all` ran at the
        // environment's teardown, before; whatever is left goes with the thread.
        for slot in self.slots.drain(..) {
            std::mem::forget(slot.state);
        }
    }
}

/// Releases every statement of this thread: its JS environment is being torn
/// down (the process exiting, a worker thread ending), as the Node-API
/// finalizers of statement objects did.
unsafe extern "C" fn release_all(_: *mut std::ffi::c_void) {
    TEARDOWN_HOOKED.set(false);
    let states: Vec<_> = LIVE
        .try_with(|live| live.try_borrow_mut().map(|mut live| live.slots.iter_mut().filter_map(|slot| slot.state.take()).collect()))
        .ok()
        .and_then(|states| states.ok())
        .unwrap_or_default();
    // Dropped outside the borrow of LIVE; the ids are never valid again (no JS runs any more).
    drop(states);
}

/// The slot index and generation of `id`, if it is one: an integer below
/// 2^53 (exact in a JS number), the generation in its top 32 bits.
#[inline]
fn decode(id: f64) -> Option<(usize, u32)> {
    // `as` saturates (NaN and negatives become 0), so converting back tells an
    // integer in range from anything else, without a call to `trunc`.
    let whole = id as u64;
    if whole as f64 != id || whole >= 1 << 53 {
        return None;
    }
    Some(((whole & (MAX_SLOTS as u64 - 1)) as usize, (whole >> INDEX_BITS) as u32))
}

fn encode(index: usize, generation: u32) -> f64 {
    ((u64::from(generation) << INDEX_BITS) | index as u64) as f64
}

/// The state of live statement `id`, if any (the `Rc` keeps it alive through a call).
#[inline]
pub(crate) fn live_state(id: f64) -> Option<Rc<RefCell<State>>> {
    let (index, generation) = decode(id)?;
    LIVE.with_borrow(|live| live.slots.get(index).filter(|slot| slot.generation == generation)?.state.clone())
}

/// Keeps `inner` as a live statement and returns its id.
pub(crate) fn register(js: Js, inner: Statement) -> Result<f64> {
    if !TEARDOWN_HOOKED.get() {
        js.on_teardown(release_all, std::ptr::null_mut())?;
        TEARDOWN_HOOKED.set(true);
    }
    let state = Rc::new(RefCell::new(State::new(inner)));
    LIVE.with_borrow_mut(|live| {
        let index = match live.free.pop() {
            Some(index) => index as usize,
            None if live.slots.len() < MAX_SLOTS => {
                live.slots.push(Slot { generation: 0, state: None });
                live.slots.len() - 1
            }
            None => {
                return Err(Error::range(
                    "HARDENED_TOO_MANY_STATEMENTS",
                    format!("{MAX_SLOTS} statements are alive on this thread; let unused statements go (or finalize them) before preparing more"),
                ));
            }
        };
        let slot = &mut live.slots[index];
        let id = encode(index, slot.generation);
        // Nothing else holds the new state yet, so this borrow cannot fail.
        state.borrow_mut().id = id;
        slot.state = Some(state);
        Ok(id)
    })
}

/// Lets statement `id` go, if it is still live: its state is dropped once no
/// running call holds it (dropping it finalizes the SQLite statement), and the
/// id is never valid again. Returns whether it was live.
pub(crate) fn release(id: f64) -> bool {
    let Some((index, generation)) = decode(id) else { return false };
    let released = LIVE.try_with(|live| {
        let Ok(mut live) = live.try_borrow_mut() else { return None };
        let slot = live.slots.get_mut(index).filter(|slot| slot.generation == generation)?;
        let state = slot.state.take()?;
        // A slot whose generations ran out is never used again.
        if let Some(next) = slot.generation.checked_add(1) {
            slot.generation = next;
            live.free.push(index as u32);
        }
        Some(state)
    });
    // Dropped here, outside the borrow of LIVE.
    matches!(released, Ok(Some(_)))
}

#[cold]
pub(crate) fn busy() -> Error {
    Error::type_error("HARDENED_STATEMENT_BUSY", "This statement is in use by a call that has not returned")
}

#[cold]
pub(crate) fn not_a_statement() -> Error {
    Error::type_error("HARDENED_INVALID_ARGUMENT", "The first argument must be the id of a live statement")
}

/// Runs `f` on the state of live statement `id` (refused while a call on it runs).
#[inline]
pub(crate) fn with_state<T>(id: f64, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
    with_state_unless_busy(id, f)?.ok_or_else(busy)
}

/// [`with_state`], but `None` while a call on statement `id` runs, for a
/// caller that has something else to do then.
#[inline]
pub(crate) fn with_state_unless_busy<T>(id: f64, f: impl FnOnce(&mut State) -> Result<T>) -> Result<Option<T>> {
    let state = live_state(id).ok_or_else(not_a_statement)?;
    let Ok(mut state) = state.try_borrow_mut() else { return Ok(None) };
    f(&mut state).map(Some)
}

/// How many statements of this thread are live (prepared and not released).
pub(crate) fn live_count() -> u32 {
    LIVE.with_borrow(|live| live.slots.iter().filter(|slot| slot.state.is_some()).count() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_anything_else_is_no_id() {
        for (index, generation) in [(0, 0), (1, 0), (MAX_SLOTS - 1, 7), (12, u32::MAX)] {
            assert_eq!(decode(encode(index, generation)), Some((index, generation)));
        }
        assert_eq!(encode(MAX_SLOTS - 1, u32::MAX), 9_007_199_254_740_991.0);
        for id in [-1.0, 0.5, f64::NAN, f64::INFINITY, 9_007_199_254_740_992.0, 1e300] {
            assert_eq!(decode(id), None, "{id}");
        }
    }
}
