//! Capabilities: rights, per-process slot tables, and the derivation tree that
//! makes revoke reach every copy.
//!
//! A capability lives in a derivation node. A node sits either in one slot of
//! one process's table or inside a message in transit, and remembers the node
//! it was copied or minted from. Revoking a capability deletes every node below
//! it wherever it is, including copies still travelling in queued messages.
//! Deleting a node hands its children to its parent, so a later revoke higher
//! up still reaches them.

use crate::arena::{Arena, ArenaKey};
use crate::ids::{Badge, ObjectId, Slot};
use serde::{Deserialize, Serialize};
use std::fmt;

bitflags::bitflags! {
    /// What a capability lets its holder do. Rights only ever shrink when a
    /// capability is copied, minted or transferred.
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    pub struct Rights: u8 {
        /// Send to a port, signal a notification, reply with a reply capability.
        const SEND = 1;
        /// Receive from a port, wait on a notification.
        const RECEIVE = 1 << 1;
        /// Pass capabilities inside messages sent through this port.
        const GRANT = 1 << 2;
        /// Read a memory region; watch a process.
        const READ = 1 << 3;
        /// Write a memory region.
        const WRITE = 1 << 4;
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letters = [
            (Rights::SEND, b's'),
            (Rights::RECEIVE, b'r'),
            (Rights::GRANT, b'g'),
            (Rights::READ, b'R'),
            (Rights::WRITE, b'W'),
        ];
        // One write of the five letters: exports print the rights of every capability event.
        let mut text = [b'-'; 5];
        for (place, (right, letter)) in text.iter_mut().zip(letters) {
            if self.contains(right) {
                *place = letter;
            }
        }
        f.write_str(std::str::from_utf8(&text).expect("ASCII letters"))
    }
}

/// What a capability names, and with which rights and badge.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Capability {
    /// The object it reaches.
    pub object: ObjectId,
    /// What the holder may do with it.
    pub rights: Rights,
    /// The badge delivered with messages sent through it.
    pub badge: Badge,
}

/// Where a derivation node is.
// Variant fields are named for what they hold; the variant's doc says the rest.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Location {
    /// In a process's table (by process index).
    Slot { process: u32, slot: Slot },
    /// Inside a message that has not been delivered yet.
    InTransit,
}

/// A key to a derivation node.
pub type NodeKey = ArenaKey;

#[derive(Clone, Debug)]
struct Node {
    capability: Capability,
    location: Location,
    parent: Option<NodeKey>,
    children: Vec<NodeKey>,
}

/// Every capability in the system, with who derived it from whom.
#[derive(Clone, Debug, Default)]
pub struct DerivationTree {
    nodes: Arena<Node>,
}

impl DerivationTree {
    /// Adds a capability derived from `parent` (or an original one when `None`).
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub fn insert(&mut self, capability: Capability, location: Location, parent: Option<NodeKey>) -> NodeKey {
        let key = self.nodes.insert(Node { capability, location, parent, children: Vec::new() });
        if let Some(parent) = parent {
            self.nodes.get_mut(parent).expect("kernel bug: derivation parent is dead").children.push(key);
        }
        key
    }

    /// The capability held in `node`, if the node is live.
    pub fn capability(&self, node: NodeKey) -> Option<Capability> {
        self.nodes.get(node).map(|node| node.capability)
    }

    /// Where `node` is, if it is live.
    pub fn location(&self, node: NodeKey) -> Option<Location> {
        self.nodes.get(node).map(|node| node.location)
    }

    /// Moves `node` to a new place (a slot, or into a message).
    pub fn relocate(&mut self, node: NodeKey, location: Location) {
        self.nodes.get_mut(node).expect("kernel bug: relocating a dead node").location = location;
    }

    /// Narrows the rights of the capability in `node`.
    pub fn restrict(&mut self, node: NodeKey, rights: Rights) {
        let entry = self.nodes.get_mut(node).expect("kernel bug: restricting a dead node");
        entry.capability.rights &= rights;
    }

    /// Removes `node`; its children are handed to its parent. Returns where it was.
    pub fn remove(&mut self, node: NodeKey) -> Option<(Capability, Location)> {
        let removed = self.nodes.remove(node)?;
        if let Some(parent) = removed.parent {
            let siblings = &mut self.nodes.get_mut(parent).expect("kernel bug: parent died first").children;
            siblings.retain(|&child| child != node);
            siblings.extend(removed.children.iter().copied());
        }
        for &child in &removed.children {
            self.nodes.get_mut(child).expect("kernel bug: child died first").parent = removed.parent;
        }
        Some((removed.capability, removed.location))
    }

    /// Deletes a node whose capability the caller no longer needs. A node with no relatives
    /// (every reply capability: they are never copied) is dropped in place, without the moves
    /// and relinking [`DerivationTree::remove`] does.
    #[inline]
    pub fn discard(&mut self, node: NodeKey) {
        let alone = self.nodes.get(node).is_some_and(|entry| entry.parent.is_none() && entry.children.is_empty());
        if alone {
            self.nodes.discard(node);
        } else {
            self.remove(node);
        }
    }

    /// Every node derived from `node`, directly or not, deepest last.
    pub fn descendants(&self, node: NodeKey) -> Vec<NodeKey> {
        let mut found = Vec::new();
        let mut frontier = vec![node];
        while let Some(current) = frontier.pop() {
            if let Some(entry) = self.nodes.get(current) {
                for &child in &entry.children {
                    found.push(child);
                    frontier.push(child);
                }
            }
        }
        found
    }

    /// True when `ancestor` is `node` or one of the nodes it was derived from.
    pub fn is_derived_from(&self, node: NodeKey, ancestor: NodeKey) -> bool {
        let mut current = Some(node);
        while let Some(key) = current {
            if key == ancestor {
                return true;
            }
            current = self.nodes.get(key).and_then(|entry| entry.parent);
        }
        false
    }

    /// How many capabilities exist, in tables and in transit.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no capability exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every live capability with its location, in node order.
    pub fn iter(&self) -> impl Iterator<Item = (NodeKey, Capability, Location)> + '_ {
        self.nodes.iter().map(|(key, node)| (key, node.capability, node.location))
    }
}

/// One process's capability slots. Slots are handed out lowest first.
#[derive(Clone, Debug, Default)]
pub struct CapabilityTable {
    slots: Vec<Option<NodeKey>>,
    used: usize,
}

impl CapabilityTable {
    /// The node held in `slot`.
    pub fn get(&self, slot: Slot) -> Option<NodeKey> {
        self.slots.get(slot.0 as usize).copied().flatten()
    }

    /// The lowest free slot, if the table has fewer than `limit` capabilities.
    pub fn free_slot(&self, limit: usize) -> Option<Slot> {
        if self.used >= limit {
            return None;
        }
        let index = self.slots.iter().position(Option::is_none).unwrap_or(self.slots.len());
        Some(Slot(index as u32))
    }

    /// Puts `node` in `slot`, which must be empty.
    #[inline]
    pub fn put(&mut self, slot: Slot, node: NodeKey) {
        let index = slot.0 as usize;
        if index >= self.slots.len() {
            self.slots.resize(index + 1, None);
        }
        assert!(self.slots[index].is_none(), "kernel bug: {slot} is already occupied");
        self.slots[index] = Some(node);
        self.used += 1;
    }

    /// Empties `slot`, returning what it held.
    pub fn take(&mut self, slot: Slot) -> Option<NodeKey> {
        let taken = self.slots.get_mut(slot.0 as usize)?.take();
        if taken.is_some() {
            self.used -= 1;
        }
        taken
    }

    /// How many slots hold a capability.
    pub fn len(&self) -> usize {
        self.used
    }

    /// True when the table holds nothing.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Occupied slots, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = (Slot, NodeKey)> + '_ {
        self.slots.iter().enumerate().filter_map(|(index, node)| node.map(|node| (Slot(index as u32), node)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capability() -> Capability {
        Capability { object: ObjectId { index: 0, generation: 0 }, rights: Rights::all(), badge: Badge::NONE }
    }

    #[test]
    fn deleting_a_middle_node_keeps_its_children_reachable_from_above() {
        let mut tree = DerivationTree::default();
        let root = tree.insert(capability(), Location::InTransit, None);
        let middle = tree.insert(capability(), Location::InTransit, Some(root));
        let leaf = tree.insert(capability(), Location::InTransit, Some(middle));
        tree.remove(middle);
        assert_eq!(tree.descendants(root), vec![leaf]);
        assert!(tree.is_derived_from(leaf, root));
    }

    #[test]
    fn discarding_a_node_with_relatives_keeps_the_tree_linked() {
        let mut tree = DerivationTree::default();
        let root = tree.insert(capability(), Location::InTransit, None);
        let middle = tree.insert(capability(), Location::InTransit, Some(root));
        let leaf = tree.insert(capability(), Location::InTransit, Some(middle));
        let loner = tree.insert(capability(), Location::InTransit, None);
        tree.discard(middle);
        tree.discard(loner);
        assert_eq!(tree.descendants(root), vec![leaf]);
        assert_eq!(tree.capability(loner), None);
        assert_eq!(tree.len(), 2);
    }

    #[test]
    fn slots_are_handed_out_lowest_first_and_limited() {
        let mut table = CapabilityTable::default();
        let mut tree = DerivationTree::default();
        let node = tree.insert(capability(), Location::InTransit, None);
        table.put(Slot(0), node);
        table.put(Slot(2), node);
        assert_eq!(table.free_slot(8), Some(Slot(1)));
        assert_eq!(table.free_slot(2), None);
        assert_eq!(table.take(Slot(0)), Some(node));
        assert_eq!(table.free_slot(8), Some(Slot(0)));
    }

    #[test]
    fn rights_print_one_letter_each() {
        assert_eq!((Rights::SEND | Rights::GRANT).to_string(), "s-g--");
    }
}
