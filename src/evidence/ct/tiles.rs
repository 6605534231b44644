//! Tiled logs (C2SP tlog-tiles, static-ct-api "Merkle Tree"): which hash
//! tiles hold the nodes of an inclusion proof, and the proof rebuilt from
//! them.
//!
//! A tile at level `L`, index `N` holds up to 256 consecutive hashes of
//! complete subtrees of `256^L` leaves: entry `i` is
//! `MTH(D[(N*256+i)*256^L : (N*256+i+1)*256^L])`. A node of height `h`
//! (a complete subtree of `2^h` leaves) at index `i` therefore is the tree
//! hash of `2^(h mod 8)` consecutive entries of one tile of level `h / 8`.
//! The rightmost tiles of a level are partial (`.p/<W>`, `W` = width);
//! once the full tile exists a log may drop the partial one, and its first
//! `W` entries take its place.

use std::collections::BTreeMap;

use super::merkle::{check_bounds, mth, node_hash, path_ranges};
use super::CtError;

/// Hashes per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree heights per tile level.
pub const TILE_HEIGHT: u32 = 8;
/// Highest tile level static-ct-api allows.
pub const MAX_LEVEL: u32 = 5;
/// Largest tree size whose proofs fit in tiles of level ≤ [`MAX_LEVEL`].
pub const MAX_TILED_TREE_SIZE: u64 = 1 << (TILE_HEIGHT * (MAX_LEVEL + 1));

/// One hash tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tile {
    pub level: u32,
    pub index: u64,
    /// 1..=256; 256 means a full tile.
    pub width: u64,
}

/// Encodes a tile index as 3-digit path elements, all but the last
/// prefixed with `x` (1234067 → `x001/x234/067`).
pub fn encode_index(mut n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        parts.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

impl Tile {
    /// Path relative to the monitoring prefix: `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        let mut p = format!("tile/{}/{}", self.level, encode_index(self.index));
        if self.is_partial() {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }
    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }
    /// The full tile this (partial) tile is a prefix of.
    pub fn full(&self) -> Tile {
        Tile {
            width: TILE_WIDTH,
            ..*self
        }
    }
}

/// The tile holding node (height `h`, index `i`) of a tree of `tree_size`,
/// with the offset and count of the entries that hash to it.
fn locate(h: u32, i: u64, tree_size: u64) -> (Tile, usize, usize) {
    let level = h / TILE_HEIGHT;
    let r = h % TILE_HEIGHT;
    let first = i << r; // index of the first entry at this tile level
    let tile_index = first / TILE_WIDTH;
    let offset = (first % TILE_WIDTH) as usize;
    let count = 1usize << r;
    let entries_at_level = tree_size >> (TILE_HEIGHT * level);
    let width = if tile_index < entries_at_level / TILE_WIDTH {
        TILE_WIDTH
    } else {
        entries_at_level % TILE_WIDTH
    };
    (
        Tile {
            level,
            index: tile_index,
            width,
        },
        offset,
        count,
    )
}

/// Hash of the leaves `[a, b)` of a tree, from complete-subtree hashes
/// given by `node(height, index)`. `a` must be a multiple of the largest
/// power of two below `b - a` (true for every range of an audit path).
fn range_hash(
    a: u64,
    b: u64,
    node: &mut dyn FnMut(u32, u64) -> Result<[u8; 32], CtError>,
) -> Result<[u8; 32], CtError> {
    let n = b - a;
    if n.is_power_of_two() && a & (n - 1) == 0 {
        return node(n.trailing_zeros(), a / n);
    }
    let k = 1u64 << (63 - (n - 1).leading_zeros());
    let left = range_hash(a, a + k, node)?;
    let right = range_hash(a + k, b, node)?;
    Ok(node_hash(&left, &right))
}

fn check_tiled_bounds(index: u64, tree_size: u64) -> Result<(), CtError> {
    check_bounds(index, tree_size)?;
    if tree_size > MAX_TILED_TREE_SIZE {
        return Err(CtError::Proof(format!(
            "tree size {tree_size} needs tiles above level {MAX_LEVEL}"
        )));
    }
    Ok(())
}

/// The tiles needed to prove inclusion of `index` in a tree of `tree_size`
/// leaves, sorted, without duplicates.
pub fn tiles_for_inclusion(index: u64, tree_size: u64) -> Result<Vec<Tile>, CtError> {
    check_tiled_bounds(index, tree_size)?;
    let mut tiles = std::collections::BTreeSet::new();
    let mut record = |h: u32, i: u64| -> Result<[u8; 32], CtError> {
        tiles.insert(locate(h, i, tree_size).0);
        Ok([0u8; 32])
    };
    for (a, b) in path_ranges(index, tree_size) {
        range_hash(a, b, &mut record)?;
    }
    Ok(tiles.into_iter().collect())
}

/// Tiles at hand, by level and index, possibly in several widths.
#[derive(Debug, Default, Clone)]
pub struct TileStore<'a> {
    tiles: BTreeMap<(u32, u64), BTreeMap<u64, &'a [u8]>>,
}

impl<'a> TileStore<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, tile: Tile, data: &'a [u8]) {
        self.tiles
            .entry((tile.level, tile.index))
            .or_default()
            .insert(tile.width, data);
    }

    /// The wanted tile, or else the narrowest wider one with the same level
    /// and index (append-only: its first entries are the wanted tile's).
    pub fn get(&self, want: &Tile) -> Option<(Tile, &'a [u8])> {
        let widths = self.tiles.get(&(want.level, want.index))?;
        widths
            .range(want.width..)
            .next()
            .map(|(w, d)| (Tile { width: *w, ..*want }, *d))
    }

    pub fn len(&self) -> usize {
        self.tiles.values().map(|w| w.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

/// Parses `tile/<L>/<N>[.p/<W>]` (hash tiles only, canonical encoding).
pub fn parse_path(p: &str) -> Option<Tile> {
    let rest = p.strip_prefix("tile/")?;
    let (level_s, rest) = rest.split_once('/')?;
    let level: u32 = level_s.parse().ok()?;
    if level > MAX_LEVEL || level_s != level.to_string() {
        return None;
    }
    let (n_part, width) = match rest.split_once(".p/") {
        Some((n, w)) => {
            let width: u64 = w.parse().ok()?;
            if !(1..TILE_WIDTH).contains(&width) || w != width.to_string() {
                return None;
            }
            (n, width)
        }
        None => (rest, TILE_WIDTH),
    };
    let mut index: u64 = 0;
    let parts: Vec<&str> = n_part.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let digits = if i + 1 < parts.len() {
            part.strip_prefix('x')?
        } else {
            part
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        index = index
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    let tile = Tile {
        level,
        index,
        width,
    };
    (tile.path() == p).then_some(tile)
}

/// Rebuilds the audit path `PATH(index, D[0:tree_size])` from hash tiles.
/// Returns the proof and the tiles actually used.
pub fn proof_from_tiles(
    index: u64,
    tree_size: u64,
    store: &TileStore,
) -> Result<(Vec<[u8; 32]>, Vec<Tile>), CtError> {
    check_tiled_bounds(index, tree_size)?;
    let mut used = std::collections::BTreeSet::new();
    let mut node = |h: u32, i: u64| -> Result<[u8; 32], CtError> {
        let (tile, offset, count) = locate(h, i, tree_size);
        let (got, data) = store.get(&tile).ok_or_else(|| {
            CtError::Proof(format!(
                "tile {} (or a wider version of it) is missing",
                tile.path()
            ))
        })?;
        if data.len() as u64 != got.width * 32 {
            return Err(CtError::Proof(format!(
                "tile {} has {} bytes, expected {}",
                got.path(),
                data.len(),
                got.width * 32
            )));
        }
        used.insert(got);
        let entries: Vec<[u8; 32]> = data[offset * 32..(offset + count) * 32]
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Ok(mth(&entries))
    };
    let mut out = Vec::new();
    for (a, b) in path_ranges(index, tree_size) {
        out.push(range_hash(a, b, &mut node)?);
    }
    Ok((out, used.into_iter().collect()))
}

/// Builds the hash tiles of a tree from its leaf hashes: every full tile
/// and the partial tiles for this size, keyed by [`Tile`]. For test logs
/// and tests; real logs serve their own tiles.
pub fn build_tiles(leaf_hashes: &[[u8; 32]]) -> Vec<(Tile, Vec<u8>)> {
    let mut out = Vec::new();
    let mut level_hashes: Vec<[u8; 32]> = leaf_hashes.to_vec();
    let mut level = 0u32;
    while !level_hashes.is_empty() && level <= MAX_LEVEL {
        let mut next = Vec::new();
        for (n, chunk) in level_hashes.chunks(TILE_WIDTH as usize).enumerate() {
            let tile = Tile {
                level,
                index: n as u64,
                width: chunk.len() as u64,
            };
            out.push((tile, chunk.concat()));
            if chunk.len() as u64 == TILE_WIDTH {
                next.push(mth(chunk));
            }
        }
        level_hashes = next;
        level += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tiles: &[(Tile, Vec<u8>)]) -> TileStore<'_> {
        let mut s = TileStore::new();
        for (t, d) in tiles {
            s.insert(*t, d);
        }
        s
    }

    #[test]
    fn index_encoding_matches_the_spec_examples() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        let t = Tile {
            level: 1,
            index: 1234067,
            width: 17,
        };
        assert_eq!(t.path(), "tile/1/x001/x234/067.p/17");
        assert_eq!(t.full().path(), "tile/1/x001/x234/067");
    }

    #[test]
    fn tile_paths_parse_back_canonically() {
        for t in [
            Tile {
                level: 0,
                index: 0,
                width: 256,
            },
            Tile {
                level: 2,
                index: 1234067,
                width: 17,
            },
            Tile {
                level: 5,
                index: 999,
                width: 1,
            },
        ] {
            assert_eq!(parse_path(&t.path()), Some(t));
        }
        for bad in [
            "tile/0/1",
            "tile/0/x000",
            "tile/00/000",
            "tile/6/000",
            "tile/0/000.p/256",
            "tile/0/000.p/0",
            "tile/0/000.p/05",
            "tile/data/000",
            "tile/0/001/002",
            "tile/0/x001/002/",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn spec_example_tree_of_70000_has_the_stated_partial_tiles() {
        // 273 full level-0 tiles + partial of 112; level 1: 1 full + partial 17; level 2 partial 1.
        assert_eq!(locate(0, 70_000 - 1, 70_000).0.width, 112);
        assert_eq!(locate(0, 0, 70_000).0.width, 256);
        assert_eq!(
            locate(8, 272, 70_000).0,
            Tile {
                level: 1,
                index: 1,
                width: 17
            }
        );
        assert_eq!(
            locate(16, 0, 70_000).0,
            Tile {
                level: 2,
                index: 0,
                width: 1
            }
        );
    }

    fn leaves(n: u32) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| super::super::precert::leaf_hash(&i.to_be_bytes()))
            .collect()
    }

    #[test]
    fn proofs_from_tiles_equal_proofs_from_the_tree() {
        for n in [1u32, 2, 255, 256, 257, 513, 70_000] {
            let lh = leaves(n);
            let built = build_tiles(&lh);
            let tiles = store(&built);
            let root = mth(&lh);
            for m in [0u64, 1, 255, 256, u64::from(n) / 2, u64::from(n) - 1] {
                if m >= u64::from(n) {
                    continue;
                }
                let need = tiles_for_inclusion(m, n.into()).unwrap();
                for t in &need {
                    assert!(built.iter().any(|(b, _)| b == t), "{n} {m}: {}", t.path());
                }
                let (proof, used) = proof_from_tiles(m, n.into(), &tiles).unwrap();
                assert_eq!(used, need);
                super::super::merkle::verify_inclusion(
                    &(m as u32).to_be_bytes(),
                    m,
                    n.into(),
                    &proof,
                    &root,
                )
                .unwrap();
            }
        }
    }

    #[test]
    fn a_full_tile_stands_in_for_a_dropped_partial_tile() {
        // Tree of 300 proven at size 260: the level-0 tile 1 is partial (4)
        // at size 260 but only the full-width version exists in a 512 tree.
        let lh = leaves(512);
        let built = build_tiles(&lh);
        let big = store(&built);
        let root = mth(&lh[..260]);
        let (proof, used) = proof_from_tiles(257, 260, &big).unwrap();
        assert!(used.iter().all(|t| t.width >= 2));
        super::super::merkle::verify_inclusion(&257u32.to_be_bytes(), 257, 260, &proof, &root)
            .unwrap();
    }

    #[test]
    fn missing_or_wrong_sized_tiles_are_errors() {
        let lh = leaves(300);
        let mut built = build_tiles(&lh);
        built[0].1.pop();
        assert!(proof_from_tiles(3, 300, &store(&built)).is_err());
        assert!(proof_from_tiles(3, 300, &TileStore::new()).is_err());
        assert!(tiles_for_inclusion(300, 300).is_err());
        assert!(tiles_for_inclusion(0, MAX_TILED_TREE_SIZE + 1).is_err());
    }
}
