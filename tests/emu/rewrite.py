#!/usr/bin/env python3
"""Rewrites a CUDA source of kernels/ into C++ for the CPU emulation
(tests/emu/include/cuda_runtime.h): the two constructs that are not C++.

  kernel<<<grid, block, shared, stream>>>(args)
      -> ::cuda_emu::launch(kernel, "kernel", BOUND, grid, block, shared, stream)(args)
     (BOUND: the kernel's __launch_bounds__ in this file, else 0; a launch
     with more threads fails as on a device)
  extern __shared__ __align__(16) T name[];
      -> T* const name = reinterpret_cast<T*>(::cuda_emu::dynamic_shared());

Lines are kept one for one (a #line directive names the original), so
compiler messages point into kernels/.  Usage: rewrite.py IN OUT
"""
import re
import sys

LAUNCH = re.compile(r"([A-Za-z_][\w:]*(?:<[^<>;()]*>)?)\s*<<<(.*?)>>>\s*\(")
BOUNDS = re.compile(r"__launch_bounds__\(([^()]*)\)\s*(\w+)\s*\(")
EXTERN_SHARED = re.compile(r"extern\s+__shared__\s+(?:__align__\(\d+\)\s+)?([\w\s]+?)\s+(\w+)\s*\[\s*\]\s*;")


def launch(m, bounds):
    kernel, config = m.group(1), m.group(2)
    bound = bounds.get(kernel.split("<")[0].split("::")[-1], "0")
    return f'::cuda_emu::launch({kernel}, "{kernel}", {bound}, {config})('


def shared(m):
    t, name = m.group(1).strip(), m.group(2)
    return f"{t}* const {name} = reinterpret_cast<{t}*>(::cuda_emu::dynamic_shared());"


def main():
    src, out = sys.argv[1], sys.argv[2]
    text = open(src, encoding="utf-8").read()
    bounds = {m.group(2): m.group(1).split(",")[0].strip() for m in BOUNDS.finditer(text)}
    rewritten, _ = LAUNCH.subn(lambda m: launch(m, bounds), text)
    rewritten, _ = EXTERN_SHARED.subn(shared, rewritten)
    if "<<<" in rewritten or "extern __shared__" in rewritten:
        sys.exit(f"rewrite.py: {src}: a launch or extern __shared__ it cannot rewrite")
    with open(out, "w", encoding="utf-8") as f:
        f.write(f'#line 1 "{src}"\n' + rewritten)


if __name__ == "__main__":
    main()
