//! RFC 6962 §2.1 Merkle trees: bounded inclusion-proof verification and
//! tree hashes.
//!
//! Verification is delegated to `ct-merkle` 0.2 (RFC 6962-compatible; same
//! RustCrypto generation as `sev` 8 — 0.3 moves to digest 0.11 and would
//! double the crypto stack). ct-merkle panics on indices above 2^63 and on
//! sizes where its node arithmetic overflows, so every untrusted size and
//! index is bounded here first.

use ct_merkle::{InclusionProof, RootHash};
use sha2::{Digest, Sha256};

use super::CtError;

/// Largest tree size accepted (2^62: far above any real log, far below
/// where ct-merkle's `2 * (n - 1) + 1` node arithmetic overflows).
pub const MAX_TREE_SIZE: u64 = 1 << 62;
/// Longest audit path for a tree of at most [`MAX_TREE_SIZE`] leaves.
pub const MAX_PROOF_LEN: usize = 64;

/// Hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Merkle Tree Hash over already-hashed leaves (RFC 6962 §2.1 `MTH`, with
/// the leaf hashing done). The empty tree hashes to SHA-256("").
pub fn mth(hashes: &[[u8; 32]]) -> [u8; 32] {
    match hashes.len() {
        0 => Sha256::digest([]).into(),
        1 => hashes[0],
        n => {
            // k: the largest power of two smaller than n.
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&hashes[..k]), &mth(&hashes[k..]))
        }
    }
}

/// Checks that `index` and `tree_size` are within the bounds where proofs
/// are meaningful and ct-merkle cannot panic.
pub fn check_bounds(index: u64, tree_size: u64) -> Result<(), CtError> {
    if tree_size == 0 {
        return Err(CtError::Proof("the tree is empty".into()));
    }
    if tree_size > MAX_TREE_SIZE {
        return Err(CtError::Proof(format!(
            "tree size {tree_size} is above the bound {MAX_TREE_SIZE}"
        )));
    }
    if index >= tree_size {
        return Err(CtError::Proof(format!(
            "leaf index {index} is not below the tree size {tree_size}"
        )));
    }
    Ok(())
}

/// Verifies that `leaf` (the serialized `MerkleTreeLeaf`, not its hash) is at
/// `index` in the tree of `tree_size` leaves with root `root`.
pub fn verify_inclusion(
    leaf: &[u8],
    index: u64,
    tree_size: u64,
    proof: &[[u8; 32]],
    root: &[u8; 32],
) -> Result<(), CtError> {
    check_bounds(index, tree_size)?;
    if proof.len() > MAX_PROOF_LEN {
        return Err(CtError::Proof(format!(
            "audit path of {} hashes is too long",
            proof.len()
        )));
    }
    let root = RootHash::<Sha256>::new((*root).into(), tree_size);
    let digests: Vec<ct_merkle::digest::Output<Sha256>> =
        proof.iter().map(|h| (*h).into()).collect();
    let proof = InclusionProof::<Sha256>::from_digests(digests.iter());
    root.verify_inclusion(&leaf, index, &proof).map_err(|e| {
        CtError::Proof(match e {
            ct_merkle::InclusionVerifError::MalformedProof => format!(
                "audit path of {} hashes has the wrong length for index {index} in a tree of {tree_size}",
                digests.len()
            ),
            ct_merkle::InclusionVerifError::IncorrectHash => {
                "the audit path does not lead to the signed root hash".to_string()
            }
            other => other.to_string(),
        })
    })
}

/// The audit path `PATH(m, D[0:n])` (RFC 6962 §2.1.1) as ranges of leaves:
/// each entry is `(start, end)` of the subtree whose hash is the next proof
/// element, bottom-up. Callers must have run [`check_bounds`].
pub fn path_ranges(index: u64, tree_size: u64) -> Vec<(u64, u64)> {
    fn rec(m: u64, a: u64, b: u64, out: &mut Vec<(u64, u64)>) {
        if b - a <= 1 {
            return;
        }
        let n = b - a;
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        if m - a < k {
            rec(m, a, a + k, out);
            out.push((a + k, b));
        } else {
            rec(m, a + k, b, out);
            out.push((a, a + k));
        }
    }
    let mut out = Vec::new();
    rec(index, 0, tree_size, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known-answer vectors: RFC 6962 reference tree of 8 leaves, as used by
    // the certificate-transparency and transparency-dev/merkle test suites.
    const LEAVES: &[&str] = &[
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: &[&str] = &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    // (tree size, index, audit path)
    const PROOFS: &[(u64, u64, &[&str])] = &[
        (1, 0, &[]),
        (
            8,
            0,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            8,
            5,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            3,
            2,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            5,
            1,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    fn leaves() -> Vec<Vec<u8>> {
        LEAVES.iter().map(|l| hex::decode(l).unwrap()).collect()
    }
    fn leaf_hashes() -> Vec<[u8; 32]> {
        leaves()
            .iter()
            .map(|l| super::super::precert::leaf_hash(l))
            .collect()
    }
    fn h(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    #[test]
    fn empty_tree_hash_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(mth(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn tree_hashes_match_known_answers() {
        let lh = leaf_hashes();
        for (n, root) in ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(mth(&lh[..n + 1])), *root, "size {}", n + 1);
        }
    }

    #[test]
    fn known_answer_proofs_verify_and_tampering_fails() {
        let leaves = leaves();
        let lh = leaf_hashes();
        for (size, idx, path) in PROOFS {
            let path: Vec<[u8; 32]> = path.iter().map(|p| h(p)).collect();
            let root = h(ROOTS[*size as usize - 1]);
            verify_inclusion(&leaves[*idx as usize], *idx, *size, &path, &root).unwrap();
            // our own PATH ranges yield the same hashes
            let ours: Vec<[u8; 32]> = path_ranges(*idx, *size)
                .iter()
                .map(|(a, b)| mth(&lh[*a as usize..*b as usize]))
                .collect();
            assert_eq!(ours, path, "size {size} index {idx}");
            // wrong index, wrong leaf, wrong root
            if *size > 1 {
                let other = (*idx + 1) % size;
                assert!(
                    verify_inclusion(&leaves[*idx as usize], other, *size, &path, &root).is_err()
                );
                assert!(verify_inclusion(b"x", *idx, *size, &path, &root).is_err());
                let mut bad = root;
                bad[0] ^= 1;
                assert!(
                    verify_inclusion(&leaves[*idx as usize], *idx, *size, &path, &bad).is_err()
                );
            }
        }
    }

    #[test]
    fn every_index_of_every_small_tree_round_trips() {
        let lh: Vec<[u8; 32]> = (0u32..70)
            .map(|i| super::super::precert::leaf_hash(&i.to_be_bytes()))
            .collect();
        for n in 1..=lh.len() as u64 {
            let root = mth(&lh[..n as usize]);
            for m in 0..n {
                let path: Vec<[u8; 32]> = path_ranges(m, n)
                    .iter()
                    .map(|(a, b)| mth(&lh[*a as usize..*b as usize]))
                    .collect();
                verify_inclusion(&(m as u32).to_be_bytes(), m, n, &path, &root).unwrap();
            }
        }
    }

    #[test]
    fn hostile_sizes_and_indices_are_rejected_without_panicking() {
        let root = [0u8; 32];
        for (idx, size) in [
            (0, 0),
            (5, 5),
            (u64::MAX - 1, u64::MAX),
            (1 << 63, (1 << 63) + 1),
            (0, MAX_TREE_SIZE + 1),
        ] {
            assert!(
                verify_inclusion(b"", idx, size, &[], &root).is_err(),
                "{idx} {size}"
            );
        }
        // Largest accepted size: wrong proof, but no panic.
        assert!(
            verify_inclusion(b"", MAX_TREE_SIZE - 1, MAX_TREE_SIZE, &[[0; 32]; 3], &root).is_err()
        );
        assert!(verify_inclusion(b"", 0, 2, &[[0; 32]; 65], &root).is_err());
    }
}
