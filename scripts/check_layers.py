#!/usr/bin/env python3
"""Checks that includes point only down the layers (docs/ARCHITECTURE.md).

    include/archetype  the public API: no private header, no CUDA header
    src/engine, kernels  may include the public API and the engine
    src/dist             + dist (the Communicator implementations: MPI, NCCL)
    src/io               + io
    src/study            + study
    src/cli              + cli
    src/python           + python (the Python binding: a client of them all; nothing includes it)

Also: nothing in the engine includes a JSON, CLI or process header (the
engine library has no I/O of its own), and only src/dist includes mpi.h or
nccl.h (the rest sees the plain Communicator interface).  Exit status 1 names every offence.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
LAYERS = ["engine", "dist", "io", "study", "cli", "python"]
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
ENGINE_FORBIDDEN = ("nlohmann/", "CLI/", "spawn.h", "sys/wait.h", "signal.h", "csignal")
MPI_HEADERS = ("mpi.h", "nccl.h")


def layer_of(path):
    rel = path.relative_to(ROOT).as_posix()
    if rel.startswith("include/"):
        return -1
    if rel.startswith("kernels/"):
        return 0
    return LAYERS.index(rel.split("/")[1])


def main():
    errors = []
    files = list((ROOT / "include").rglob("*.hpp")) + list((ROOT / "kernels").glob("*"))
    for layer in LAYERS:
        files += list((ROOT / "src" / layer).glob("*"))
    loose = [p for p in (ROOT / "src").glob("*") if p.is_file()]
    errors += [f"{p.relative_to(ROOT)}: a source file outside the layer folders" for p in loose]
    for path in files:
        if path.suffix not in (".cpp", ".hpp", ".cu", ".cuh"):
            continue
        mine = layer_of(path)
        for quote, target in INCLUDE.findall(path.read_text(errors="replace")):
            where = f"{path.relative_to(ROOT)}: #include {target}"
            if mine == -1:
                if quote == '"' and not target.startswith("archetype/"):
                    errors.append(f"{where}: a public header includes a private one")
                if target.startswith("cuda") or target.startswith("thrust/") or target.startswith("cub/"):
                    errors.append(f"{where}: a public header includes a CUDA header")
                continue
            head = target.split("/")[0]
            if quote == '"' and head in LAYERS and LAYERS.index(head) > mine:
                errors.append(f"{where}: points up, from {LAYERS[mine]} to {head}")
            if mine == 0 and target.startswith(ENGINE_FORBIDDEN):
                errors.append(f"{where}: the engine does no JSON, CLI, signals or processes")
            if target in MPI_HEADERS and mine != LAYERS.index("dist"):
                errors.append(f"{where}: only src/dist talks to MPI or NCCL")
    for e in errors:
        print(e)
    print(f"check_layers: {len(files)} files, {len(errors)} offence(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
