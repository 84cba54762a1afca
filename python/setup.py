"""pip's build of the attnflow Python module: drives the repository's CMake project.

    /usr/bin/python3 -m pip install --no-build-isolation ./python     # offline, Debian's pip

CMake configures <repo>/build-pip (Release; apps, tests and benchmarks off) and builds only
the target attnflow_python; the extension is then packaged with python/attnflow/*.py(i).
Environment: ATTNFLOW_BUILD_DIR=<an already configured build tree> builds there instead
(its options are kept); ATTNFLOW_CMAKE_ARGS="-DATTNFLOW_WITH_TORCH=OFF ..." adds CMake options;
CMAKE_BUILD_PARALLEL_LEVEL sets the jobs (default: all cores).
"""
from __future__ import annotations

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = pathlib.Path(os.environ.get("ATTNFLOW_BUILD_DIR") or ROOT / "build-pip").resolve()


def project_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    return re.search(r"project\(attnflow VERSION ([0-9.]+)", text).group(1)


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    """Builds the extension with CMake instead of setuptools' compiler."""

    def build_extension(self, ext: Extension) -> None:
        if not (ROOT / "lib" / "CMakeLists.txt").is_file():
            raise RuntimeError(f"{ROOT}: not the attnflow repository (build from a checkout: "
                               "pip install ./python)")
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 2)
        if "ATTNFLOW_BUILD_DIR" not in os.environ or not (BUILD / "CMakeCache.txt").exists():
            configure = [
                "cmake", "-S", str(ROOT), "-B", str(BUILD), "-DCMAKE_BUILD_TYPE=Release",
                f"-DPython3_EXECUTABLE={sys.executable}", "-DATTNFLOW_BUILD_PYTHON=ON",
                "-DATTNFLOW_BUILD_APPS=OFF", "-DATTNFLOW_BUILD_TESTS=OFF",
                "-DATTNFLOW_BUILD_BENCHMARKS=OFF",
                *shlex.split(os.environ.get("ATTNFLOW_CMAKE_ARGS", "")),
            ]
            subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(BUILD), "--target", "attnflow_python",
                        "-j", jobs], check=True)
        built = sorted((BUILD / "python" / "attnflow").glob("_attnflow*.so"))
        if not built:
            raise RuntimeError(f"{BUILD}: CMake built no python/attnflow/_attnflow*.so (is "
                               "pybind11-dev installed? see the CMake output above)")
        dest = pathlib.Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], dest)


# Keep setuptools' own build and egg-info folders out of the source tree (and out of build/).
SETUPTOOLS_DIR = BUILD / "setuptools"
SETUPTOOLS_DIR.mkdir(parents=True, exist_ok=True)

setup(
    version=project_version(),
    packages=["attnflow"],
    package_dir={"attnflow": "attnflow"},
    package_data={"attnflow": ["__init__.pyi", "py.typed"]},
    ext_modules=[CMakeExtension("attnflow._attnflow")],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": str(SETUPTOOLS_DIR)},
             "egg_info": {"egg_base": str(SETUPTOOLS_DIR)}},
    zip_safe=False,
)
