//! Which supervised server depends on which, and the order that follows from it.
//!
//! A server that calls another while it serves (the file server calls the block driver for
//! every block it misses) depends on it: while the other hangs or is being restarted, it is
//! blocked too, and its missed heartbeat says nothing about its own health. The supervisor
//! keeps its wards dependencies first, so restarts and heartbeat rounds reach a driver
//! before the servers that wait on it. This module owns the defaults, the order and the
//! cycle check; it knows nothing of processes or messages.

use crate::service::Service;
use std::collections::{BTreeMap, BTreeSet};

/// The servers `service` depends on when the scenario does not say, among those `supervised`.
/// The file server calls the block driver for its blocks; when the name server is
/// supervised, every other supervised server may be waiting on a lookup while it restarts.
pub fn default_dependencies(service: Service, supervised: &BTreeSet<Service>) -> Vec<Service> {
    let mut dependencies = Vec::new();
    if service != Service::Name && supervised.contains(&Service::Name) {
        dependencies.push(Service::Name);
    }
    if service == Service::File && supervised.contains(&Service::Block) {
        dependencies.push(Service::Block);
    }
    dependencies
}

/// The positions of `dependencies` (each server's dependencies, by position in the same
/// list) in an order where every server comes after what it depends on; among servers free
/// to go next, the earlier position goes first, so the order is the same on every run.
///
/// # Errors
/// A cycle, as the positions along it (first repeated at the end), when there is one.
pub fn dependency_order(dependencies: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let mut placed = vec![false; dependencies.len()];
    let mut order = Vec::with_capacity(dependencies.len());
    while order.len() < dependencies.len() {
        let next = (0..dependencies.len()).find(|&index| {
            !placed[index] && dependencies[index].iter().all(|&dependency| placed.get(dependency) != Some(&false))
        });
        match next {
            Some(index) => {
                placed[index] = true;
                order.push(index);
            }
            None => return Err(find_cycle(dependencies, &placed)),
        }
    }
    Ok(order)
}

/// A cycle among the servers not `placed`: every one of them waits on another unplaced one,
/// so walking from any of them along unplaced dependencies must come back to one seen.
fn find_cycle(dependencies: &[Vec<usize>], placed: &[bool]) -> Vec<usize> {
    let Some(start) = placed.iter().position(|&done| !done) else { return Vec::new() };
    let mut path = vec![start];
    let mut seen = BTreeMap::from([(start, 0)]);
    let mut at = start;
    loop {
        let Some(&next) = dependencies[at].iter().find(|&&dependency| placed.get(dependency) == Some(&false)) else {
            return Vec::new();
        };
        if let Some(&from) = seen.get(&next) {
            let mut cycle = path[from..].to_vec();
            cycle.push(next);
            return cycle;
        }
        seen.insert(next, path.len());
        path.push(next);
        at = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_come_first_and_free_servers_keep_their_places() {
        // 0 block, 1 console, 2 fs (on block), 3 name; fs and console on name.
        let dependencies = vec![vec![3], vec![3], vec![3, 0], vec![]];
        assert_eq!(dependency_order(&dependencies), Ok(vec![3, 0, 1, 2]));
        assert_eq!(dependency_order(&[vec![], vec![]]), Ok(vec![0, 1]));
    }

    #[test]
    fn a_cycle_is_named_from_where_it_closes() {
        let dependencies = vec![vec![], vec![2], vec![3], vec![1]];
        assert_eq!(dependency_order(&dependencies), Err(vec![1, 2, 3, 1]));
        assert_eq!(dependency_order(&[vec![0]]), Err(vec![0, 0]));
    }

    #[test]
    fn the_file_server_waits_on_the_driver_and_everyone_on_a_supervised_name_server() {
        let supervised = BTreeSet::from([Service::Block, Service::File]);
        assert_eq!(default_dependencies(Service::File, &supervised), [Service::Block]);
        assert_eq!(default_dependencies(Service::Block, &supervised), []);
        let with_name = BTreeSet::from([Service::Name, Service::File, Service::Console]);
        assert_eq!(default_dependencies(Service::File, &with_name), [Service::Name]);
        assert_eq!(default_dependencies(Service::Console, &with_name), [Service::Name]);
        assert_eq!(default_dependencies(Service::Name, &with_name), []);
    }
}
