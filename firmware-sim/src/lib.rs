//! Deterministic simulator for Minnow's core services (grows with issue 6).
