#!/usr/bin/env python3
"""tools/openssl35/apps.py TOP PREFIX JOBS - OpenSSL 3.5's `openssl` program.

The openssl-src crate builds and installs the libraries only (make build_libs,
install_dev) and deletes its configured tree.  This step configures a copy of
the same source (the crate's own, found with `cargo metadata`) with exactly the
Configure command the crate ran (read back from the build script's output),
then builds apps/openssl alone, linking the crate's installed libcrypto.a and
libssl.a (make -o: they are taken as up to date, never rebuilt).  The binary
goes to PREFIX/bin/openssl.  Called by build.sh; output is its log.
"""
import glob
import json
import os
import shlex
import shutil
import subprocess
import sys


def main():
    top, prefix, jobs = sys.argv[1], sys.argv[2], sys.argv[3]
    here = os.path.dirname(os.path.abspath(__file__))
    outputs = glob.glob(os.path.join(top, "target", "release", "build",
                                     "ferrule-openssl35-*", "output"))
    line = None
    for path in outputs:
        with open(path, encoding="utf-8", errors="replace") as f:
            for text in f:
                if text.startswith("running ") and '"./Configure"' in text:
                    line = text
    if line is None:
        sys.exit("apps.py: the crate's Configure command is not in its build output")
    # running cd "DIR" && env -u CROSS_COMPILE AR="ar" ... "perl" "./Configure" ARGS
    cmd = shlex.split(line[len("running "):].split("&&", 1)[1])
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--offline"], cwd=here))
    src = [os.path.join(os.path.dirname(p["manifest_path"]), "openssl")
           for p in meta["packages"] if p["name"] == "openssl-src"]
    if len(src) != 1 or not os.path.isfile(os.path.join(src[0], "Configure")):
        sys.exit("apps.py: openssl-src's source tree not found")
    tree = os.path.join(top, "apps-build")
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(src[0], tree, ignore=shutil.ignore_patterns(".git"))
    cmd = [a if not a.startswith("--prefix=") else "--prefix=" + os.path.join(tree, "install")
           for a in cmd]
    subprocess.check_call(cmd, cwd=tree)
    for lib in ("libcrypto.a", "libssl.a"):
        shutil.copy2(os.path.join(prefix, "lib", lib), os.path.join(tree, lib))
    make = ["make", "-j", jobs, "-o", "libcrypto.a", "-o", "libssl.a"]
    subprocess.check_call(make + ["build_generated"], cwd=tree)
    subprocess.check_call(make + ["apps/openssl"], cwd=tree)
    os.makedirs(os.path.join(prefix, "bin"), exist_ok=True)
    shutil.copy2(os.path.join(tree, "apps", "openssl"), os.path.join(prefix, "bin", "openssl"))
    out = subprocess.check_output([os.path.join(prefix, "bin", "openssl"), "version"], text=True)
    print("apps.py: built", out.strip())
    shutil.rmtree(tree)


if __name__ == "__main__":
    main()
