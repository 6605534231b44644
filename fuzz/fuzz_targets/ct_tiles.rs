//! Tile proof assembly (CT, static-ct-api): the audit path rebuilt from hash
//! tiles must verify against the tree hash when the tiles are honest, and an
//! assembled path that differs from the honest one must never verify.
//!
//! Input: tree size and leaf index (bounded), then bytes that tamper with the
//! tiles (drop a tile, flip a byte, truncate, add a wider/narrower copy).
#![no_main]
use blyss_evidence::evidence::ct::{merkle, precert, tiles};
use libfuzzer_sys::fuzz_target;

/// Largest tree built per input: level-2 tiles appear above 65 536 leaves.
const MAX_LEAVES: u64 = 70_000;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        // Raw path parsing on whatever is there.
        if let Ok(s) = std::str::from_utf8(data) {
            let _ = tiles::parse_path(s);
        }
        return;
    }
    let size = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as u64;
    // Mostly small trees (levels 0-1); large ones (level 2) are slow to
    // build, so only when the top byte is 0xff.
    let size = if size >> 24 == 0xff {
        1 + size % MAX_LEAVES
    } else {
        1 + size % 600
    };
    let index = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as u64 % size;
    let ops = &data[8..];

    let leaves: Vec<Vec<u8>> = (0..size).map(|i| i.to_le_bytes().to_vec()).collect();
    let hashes: Vec<[u8; 32]> = leaves.iter().map(|l| precert::leaf_hash(l)).collect();
    let root = merkle::mth(&hashes);
    let built = tiles::build_tiles(&hashes);

    // Honest tiles: the assembled path verifies.
    let mut honest = tiles::TileStore::new();
    for (t, d) in &built {
        honest.insert(*t, d);
    }
    let (proof, used) = tiles::proof_from_tiles(index, size, &honest).expect("honest tiles");
    let needed = tiles::tiles_for_inclusion(index, size).unwrap();
    assert_eq!(used, needed, "tiles used differ from tiles_for_inclusion");
    merkle::verify_inclusion(&leaves[index as usize], index, size, &proof, &root)
        .expect("honest proof must verify");
    let mut wrong = leaves[index as usize].clone();
    wrong.push(0);
    assert!(merkle::verify_inclusion(&wrong, index, size, &proof, &root).is_err());

    // Tampered tiles.
    let mut owned: Vec<(tiles::Tile, Vec<u8>)> = built.clone();
    for op in ops.chunks(4) {
        if owned.is_empty() {
            break;
        }
        let k = op.first().copied().unwrap_or(0) as usize % owned.len();
        let arg = u16::from_le_bytes([op.get(1).copied().unwrap_or(0), op.get(2).copied().unwrap_or(0)]) as usize;
        let kind = op.get(3).copied().unwrap_or(0) % 5;
        match kind {
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
                let n = arg % (d.len() + 1);
                d.truncate(n);
            }
            3 => {
                let (t, d) = owned[k].clone();
                let w = 1 + (arg as u64 % 256);
                let mut d2 = d.clone();
                d2.resize(w as usize * 32, (arg >> 8) as u8);
                owned.push((tiles::Tile { width: w, ..t }, d2));
            }
            _ => {
                let (t, d) = owned[k].clone();
                owned.push((tiles::Tile { index: t.index ^ 1, ..t }, d));
            }
        }
    }
    let mut store = tiles::TileStore::new();
    for (t, d) in &owned {
        store.insert(*t, d);
    }
    if let Ok((p2, _)) = tiles::proof_from_tiles(index, size, &store) {
        let ok = merkle::verify_inclusion(&leaves[index as usize], index, size, &p2, &root).is_ok();
        assert_eq!(ok, p2 == proof, "tampered tiles: verify={ok}, same path={}", p2 == proof);
    }
    for t in &needed {
        assert_eq!(tiles::parse_path(&t.path()), Some(*t));
    }
});
