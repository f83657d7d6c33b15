#!/usr/bin/env python3
"""Gentoo packages merged by Portage itself, for the portage cataloger's test.

Writes a one-category ebuild repository (a library, and a program that depends on it), merges both
with Portage's `ebuild ... merge` (PyPI's portage, Gentoo's own package manager) into ROOT, and
prints what Portage's vartree then holds: one JSON line per installed package (cpv, its name and
version as Portage splits them, SLOT, LICENSE, RDEPEND), the reference the test compares with.

usage: gentoo_vdb.py WORK_DIR ROOT
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

EBUILDS = {
    "app-misc/libgreet-1.4.2": ("LGPL-2.1+", "", "usr/lib64/libgreet.so.1"),
    "app-misc/hello-2.12.1-r1": ("GPL-3+", ">=app-misc/libgreet-1.4:0= || ( app-misc/missing app-misc/libgreet )",
                                 "usr/bin/hello"),
}


def main(work: pathlib.Path, root: pathlib.Path) -> None:
    repo = work / "repo"
    (repo / "profiles").mkdir(parents=True, exist_ok=True)
    (repo / "profiles" / "repo_name").write_text("vouch-test\n")
    (repo / "metadata").mkdir(exist_ok=True)
    (repo / "metadata" / "layout.conf").write_text("masters =\nthin-manifests = true\n")
    config = work / "config"
    (config / "etc" / "portage" / "repos.conf").mkdir(parents=True, exist_ok=True)
    (config / "etc" / "portage" / "repos.conf" / "test.conf").write_text(
        f"[DEFAULT]\nmain-repo = vouch-test\n[vouch-test]\nlocation = {repo}\n")
    tmp = work / "tmp"
    tmp.mkdir(exist_ok=True)
    (config / "etc" / "portage" / "make.conf").write_text(
        'ACCEPT_KEYWORDS="amd64"\n'
        'FEATURES="-sandbox -usersandbox -userpriv -usersync -ipc-sandbox -network-sandbox '
        '-pid-sandbox -mount-sandbox -strip"\n'
        f"PORTAGE_TMPDIR={tmp}\n")
    root.mkdir(parents=True, exist_ok=True)
    # Portage installed by pip is a Gentoo Prefix one: its EPREFIX is the environment it was
    # installed in, and packages install under ROOT/EPREFIX (their database is ROOT/var/db/pkg).
    env = dict(os.environ, PORTAGE_CONFIGROOT=str(config), ROOT=str(root), EPREFIX="")
    ebuild_bin = shutil.which("ebuild") or str(pathlib.Path(sys.executable).parent / "ebuild")
    for cpv, (license_, rdepend, installed) in EBUILDS.items():
        category, pf = cpv.split("/")
        pn = pf.split("-")[0]
        directory = repo / category / pn
        directory.mkdir(parents=True, exist_ok=True)
        ebuild = directory / f"{pf}.ebuild"
        ebuild.write_text(
            'EAPI=8\nDESCRIPTION="test"\nHOMEPAGE="https://example.org"\nSRC_URI=""\n'
            f'LICENSE="{license_}"\nSLOT="0"\nKEYWORDS="amd64"\nRDEPEND="{rdepend}"\nS="${{WORKDIR}}"\n'
            f'src_install() {{\n\tmkdir -p "${{ED}}/{os.path.dirname(installed)}" && '
            f'echo {pn} > "${{ED}}/{installed}"\n}}\n')
        merged = subprocess.run([ebuild_bin, str(ebuild), "merge"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if merged.returncode != 0:
            sys.exit(f"ebuild {pf} merge failed:\n{merged.stdout}")
    os.environ.update(env)
    import portage  # noqa: E402 (reads its configuration from the environment)
    vartree = portage.db[portage.root]["vartree"].dbapi
    for cpv in sorted(vartree.cpv_all()):
        slot, license_, rdepend = vartree.aux_get(cpv, ["SLOT", "LICENSE", "RDEPEND"])
        category, name, version, revision = portage.versions.catpkgsplit(cpv)
        if revision != "r0":
            version = f"{version}-{revision}"
        print(json.dumps({"cpv": str(cpv), "name": f"{category}/{name}", "version": version,
                          "slot": slot, "license": license_, "rdepend": rdepend}))


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2]).resolve())
