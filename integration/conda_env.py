#!/usr/bin/env python3
"""A conda environment made by real conda tooling, for the conda cataloger's test.

Packages are bundled into `.conda` archives by conda-package-handling (what conda-build uses),
indexed into a local channel by rattler's indexer, solved and installed into PREFIX by rattler's
installer (the engine of pixi and of conda's libmamba-free installs), which writes the environment's
`conda-meta/*.json` records. Prints the records rattler reads back from PREFIX as JSON lines
(name, version, build, subdir, depends), the reference the test compares with.

usage: conda_env.py WORK_DIR PREFIX
"""

import asyncio
import hashlib
import json
import os
import pathlib
import sys

import rattler
from conda_package_handling import api as cph
from rattler.index import index_fs

# (name, version, build, subdir, depends, license, files)
PACKAGES = [
    ("libzlib", "1.3.1", "hb9d3cd8_2", "linux-64", ["__glibc >=2.17,<3.0.a0"], "Zlib",
     {"lib/libz.so.1.3.1": b"\x7fELF not really\n"}),
    ("zlib", "1.3.1", "hb9d3cd8_2", "linux-64", ["libzlib 1.3.1 hb9d3cd8_2"], "Zlib",
     {"include/zlib.h": b"/* zlib.h */\n"}),
    ("python-dateutil-lite", "2.9.0", "pyhd8ed1ab_0", "noarch", ["six >=1.5"], "Apache-2.0 OR BSD-3-Clause",
     {"site-packages/dateutil_lite/__init__.py": b"",
      "site-packages/python_dateutil_lite-2.9.0.dist-info/METADATA":
          b"Metadata-Version: 2.1\nName: python-dateutil-lite\nVersion: 2.9.0\n"}),
    ("six", "1.16.0", "pyh6c4a22f_0", "noarch", [], "MIT",
     {"site-packages/six.py": b"",
      "site-packages/six-1.16.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n"}),
]


def bundle(work: pathlib.Path, channel: pathlib.Path) -> None:
    for name, version, build, subdir, depends, license_, files in PACKAGES:
        src = work / "src" / name
        for rel, data in files.items():
            path = src / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        info = src / "info"
        info.mkdir(parents=True, exist_ok=True)
        index = {"name": name, "version": version, "build": build,
                 "build_number": int(build.rsplit("_", 1)[1]), "depends": depends,
                 "license": license_, "subdir": subdir, "timestamp": 1717000000000}
        if subdir == "noarch":
            index["noarch"] = "generic"
        else:
            index.update({"arch": "x86_64", "platform": "linux"})
        (info / "index.json").write_text(json.dumps(index))
        paths = [{"_path": rel, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(),
                  "size_in_bytes": len(data)} for rel, data in files.items()]
        (info / "paths.json").write_text(json.dumps({"paths": paths, "paths_version": 1}))
        (info / "files").write_text("".join(f"{rel}\n" for rel in files))
        listed = [str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()]
        out = channel / subdir
        out.mkdir(parents=True, exist_ok=True)
        cph.create(str(src), listed, f"{name}-{version}-{build}.conda", out_folder=str(out))


async def main(work: pathlib.Path, prefix: pathlib.Path) -> None:
    channel = work / "channel"
    bundle(work, channel)
    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    await index_fs(channel)
    records = await rattler.solve([rattler.Channel(channel.as_uri())],
                                  ["zlib", "python-dateutil-lite"],
                                  platforms=["linux-64", "noarch"],
                                  virtual_packages=[rattler.GenericVirtualPackage(
                                      rattler.PackageName("__glibc"), rattler.Version("2.36"),
                                      rattler.BuildString("0"))])
    await rattler.install(records, prefix, cache_dir=work / "cache", show_progress=False,
                          execute_link_scripts=False)
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        record = rattler.PrefixRecord.from_path(path)
        print(json.dumps({"name": record.name.normalized, "version": str(record.version),
                          "build": str(record.build), "subdir": str(record.subdir),
                          "depends": [str(d) for d in record.depends]}))


if __name__ == "__main__":
    asyncio.run(main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
    # rattler's runtime threads can still hold Python thread states when the interpreter
    # finalizes, which aborts with "PyGILState_Release: thread state ... must be current" (seen
    # once in CI, exit 134 after the records were printed). The work is done and printed: leave
    # without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
