// ARCHETYPE_CLONES: a hot CPU function built for AVX-512 (x86-64-v4), AVX2 +
// FMA (x86-64-v3) and baseline x86-64, the best picked at load time.  All
// clones perform the same IEEE operations in the same order (no contraction:
// -ffp-contract=off; the only fma is the one spelled out in distance.hpp), so
// they return the same bits.  Private to src/.
#pragma once

// ARCHETYPE_NO_CLONES (set by the sanitizer build, cmake/sanitizers.cmake):
// the baseline copy only, which compiles three times faster; it runs the
// same source, hence every branch of the clones.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(ARCHETYPE_NO_CLONES)
#define ARCHETYPE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ARCHETYPE_CLONES
#endif

// ARCHETYPE_INLINE: a helper of such a function, inlined into each clone so
// that it is built for that clone's instruction set.
#define ARCHETYPE_INLINE inline __attribute__((always_inline))
