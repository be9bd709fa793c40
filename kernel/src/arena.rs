//! A generational arena: a vector of entries whose freed slots are reused
//! lowest-freed-last (a stack), with a generation per slot.
//!
//! The kernel needs two things no general-purpose crate gives together: ids
//! that are a plain `u32` index plus `u32` generation (they are printed in
//! traces and stored in every event), and a reuse order that is fixed by the
//! sequence of operations alone, so runs stay deterministic.

/// An index and generation into an [`Arena`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ArenaKey {
    /// Position in the arena.
    pub index: u32,
    /// Generation of the entry at that position.
    pub generation: u32,
}

#[derive(Clone, Debug)]
struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

/// A table of values addressed by [`ArenaKey`].
#[derive(Clone, Debug)]
pub struct Arena<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { entries: Vec::new(), free: Vec::new(), live: 0 }
    }
}

impl<T> Arena<T> {
    /// Stores `value` and returns its key.
    pub fn insert(&mut self, value: T) -> ArenaKey {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let entry = &mut self.entries[index as usize];
            debug_assert!(entry.value.is_none(), "kernel bug: free list names a live entry");
            entry.value = Some(value);
            return ArenaKey { index, generation: entry.generation };
        }
        let index = u32::try_from(self.entries.len()).expect("kernel bug: arena outgrew u32 indices");
        self.entries.push(Entry { generation: 0, value: Some(value) });
        ArenaKey { index, generation: 0 }
    }

    /// The value at `key`, or `None` if it was removed (whatever lives there now).
    pub fn get(&self, key: ArenaKey) -> Option<&T> {
        let entry = self.entries.get(key.index as usize)?;
        if entry.generation == key.generation { entry.value.as_ref() } else { None }
    }

    /// Mutable access to the value at `key`, if it is still live.
    pub fn get_mut(&mut self, key: ArenaKey) -> Option<&mut T> {
        let entry = self.entries.get_mut(key.index as usize)?;
        if entry.generation == key.generation { entry.value.as_mut() } else { None }
    }

    /// Removes and returns the value at `key`; the slot's generation moves on.
    pub fn remove(&mut self, key: ArenaKey) -> Option<T> {
        let entry = self.entries.get_mut(key.index as usize)?;
        if entry.generation != key.generation {
            return None;
        }
        let value = entry.value.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(key.index);
        self.live -= 1;
        Some(value)
    }

    /// Removes the value at `key` and drops it where it is; the slot's generation moves on.
    /// Returns false if it was already gone.
    pub fn discard(&mut self, key: ArenaKey) -> bool {
        let Some(entry) = self.entries.get_mut(key.index as usize) else { return false };
        if entry.generation != key.generation || entry.value.is_none() {
            return false;
        }
        entry.value = None;
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(key.index);
        self.live -= 1;
        true
    }

    /// How many values are live.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no value is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Live values in index order.
    pub fn iter(&self) -> impl Iterator<Item = (ArenaKey, &T)> {
        self.entries.iter().enumerate().filter_map(|(index, entry)| {
            let key = ArenaKey { index: index as u32, generation: entry.generation };
            entry.value.as_ref().map(|value| (key, value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_key_stays_dead_after_its_slot_is_reused() {
        let mut arena = Arena::default();
        let first = arena.insert("first");
        assert_eq!(arena.remove(first), Some("first"));
        let second = arena.insert("second");
        assert_eq!(second.index, first.index);
        assert_ne!(second.generation, first.generation);
        assert_eq!(arena.get(first), None);
        assert_eq!(arena.get(second), Some(&"second"));
        assert_eq!(arena.remove(first), None);
        assert_eq!(arena.len(), 1);
        assert!(arena.discard(second));
        assert!(!arena.discard(second));
        assert_eq!(arena.get(second), None);
        assert!(arena.is_empty());
    }
}
