//! Launch measurement recomputation (AMD SEV-SNP), offline.
