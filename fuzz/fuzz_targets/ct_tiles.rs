//! Tile proof assembly (CT, static-ct-api): the audit path rebuilt from hash
//! tiles must verify against the tree hash when the tiles are honest, and an
//! assembled path that differs from the honest one must never verify.
//!
//! The tree (leaf `i` = `i` as 8 little-endian bytes) and its complete
//! subtree hashes are computed once; per input, the harness slices the tiles
//! a proof needs (plus neighbours) out of that cache — independently of
//! `tiles::build_tiles` — and computes the root with its own MTH recursion.
//!
//! Input: tree size and leaf index (bounded), then 4-byte operations that
//! tamper with the tiles (drop one, flip a byte, truncate, add a wider or
//! narrower copy, move one to another index).
#![no_main]
use std::sync::OnceLock;

use blyss_evidence::evidence::ct::{merkle, precert, tiles};
use libfuzzer_sys::fuzz_target;

/// Leaves in the cached tree: level-2 tiles appear above 65 536 leaves.
const MAX_LEAVES: usize = 70_000;

struct Tree {
    /// Level 0: leaf hashes; level 1: hashes of aligned 256-leaf subtrees;
    /// level 2: hashes of aligned 65 536-leaf subtrees.
    levels: [Vec<[u8; 32]>; 3],
}

fn tree() -> &'static Tree {
    static T: OnceLock<Tree> = OnceLock::new();
    T.get_or_init(|| {
        let l0: Vec<[u8; 32]> = (0..MAX_LEAVES as u64)
            .map(|i| precert::leaf_hash(&i.to_le_bytes()))
            .collect();
        let l1: Vec<[u8; 32]> = l0.chunks_exact(256).map(merkle::mth).collect();
        let l2: Vec<[u8; 32]> = l1.chunks_exact(256).map(merkle::mth).collect();
        Tree {
            levels: [l0, l1, l2],
        }
    })
}

/// MTH of leaves `[a, b)`, using cached complete subtrees where aligned.
fn mth(t: &Tree, a: usize, b: usize) -> [u8; 32] {
    let n = b - a;
    if n == 1 {
        return t.levels[0][a];
    }
    if n == 256 && a % 256 == 0 {
        return t.levels[1][a / 256];
    }
    if n == 65_536 && a % 65_536 == 0 {
        return t.levels[2][a / 65_536];
    }
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    merkle::node_hash(&mth(t, a, a + k), &mth(t, a + k, b))
}

/// The honest tile (level, index) of a tree of `size` leaves, if it exists.
fn tile(t: &Tree, size: usize, level: u32, index: u64) -> Option<(tiles::Tile, Vec<u8>)> {
    let entries = size >> (8 * level);
    let start = index as usize * 256;
    if start >= entries {
        return None;
    }
    let width = (entries - start).min(256);
    let data: Vec<u8> = t.levels[level as usize][start..start + width].concat();
    Some((
        tiles::Tile {
            level,
            index,
            width: width as u64,
        },
        data,
    ))
}

fn leaf(i: u64) -> Vec<u8> {
    i.to_le_bytes().to_vec()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        if let Ok(s) = std::str::from_utf8(data) {
            let _ = tiles::parse_path(s);
        }
        return;
    }
    let t = tree();
    let size = 1 + u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize % MAX_LEAVES;
    let index = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as u64 % size as u64;
    let ops = &data[8..];
    let n = size as u64;
    let root = mth(t, 0, size);

    // Honest store: the tiles the proof needs, and their right neighbours.
    let needed = tiles::tiles_for_inclusion(index, n).expect("in bounds");
    let mut owned: Vec<(tiles::Tile, Vec<u8>)> = Vec::new();
    for nt in &needed {
        for idx in [nt.index, nt.index + 1] {
            if let Some(x) = tile(t, size, nt.level, idx) {
                if !owned.iter().any(|(o, _)| *o == x.0) {
                    owned.push(x);
                }
            }
        }
        assert_eq!(
            tile(t, size, nt.level, nt.index).map(|x| x.0),
            Some(*nt),
            "tiles_for_inclusion names a tile the tree does not have"
        );
        assert_eq!(tiles::parse_path(&nt.path()), Some(*nt));
    }
    let mut honest = tiles::TileStore::new();
    for (tl, d) in &owned {
        honest.insert(*tl, d);
    }
    let (proof, used) = tiles::proof_from_tiles(index, n, &honest).expect("honest tiles");
    assert_eq!(used, needed, "tiles used differ from tiles_for_inclusion");
    merkle::verify_inclusion(&leaf(index), index, n, &proof, &root)
        .expect("honest proof must verify");
    let mut wrong = leaf(index);
    wrong.push(0);
    assert!(merkle::verify_inclusion(&wrong, index, n, &proof, &root).is_err());

    // Tampered tiles.
    for op in ops.chunks(4) {
        if owned.is_empty() {
            break;
        }
        let k = op[0] as usize % owned.len();
        let arg = u16::from_le_bytes([op.get(1).copied().unwrap_or(0), op.get(2).copied().unwrap_or(0)])
            as usize;
        match op.get(3).copied().unwrap_or(0) % 5 {
            0 => {
                owned.remove(k);
            }
            1 => {
                let d = &mut owned[k].1;
                if !d.is_empty() {
                    let p = arg % d.len();
                    d[p] ^= 1 << (arg % 8);
                }
            }
            2 => {
                let d = &mut owned[k].1;
                let len = arg % (d.len() + 1);
                d.truncate(len);
            }
            3 => {
                let (tl, d) = owned[k].clone();
                let w = 1 + (arg as u64 % 256);
                let mut d2 = d;
                d2.resize(w as usize * 32, (arg >> 8) as u8);
                owned.push((tiles::Tile { width: w, ..tl }, d2));
            }
            _ => {
                let (tl, d) = owned[k].clone();
                owned.push((
                    tiles::Tile {
                        index: tl.index ^ 1,
                        ..tl
                    },
                    d,
                ));
            }
        }
    }
    let mut store = tiles::TileStore::new();
    for (tl, d) in &owned {
        store.insert(*tl, d);
    }
    if let Ok((p2, _)) = tiles::proof_from_tiles(index, n, &store) {
        let ok = merkle::verify_inclusion(&leaf(index), index, n, &p2, &root).is_ok();
        assert_eq!(ok, p2 == proof, "tampered tiles: verify={ok}, same path={}", p2 == proof);
    }
});
