"""Writes the wheel (a zip with a RECORD) and the sdist (a gzipped tar)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import stat
import tarfile
import time
import zipfile
from pathlib import Path

#: Zip entries carry SOURCE_DATE_EPOCH when set, else a fixed date: reproducible wheels.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def distribution_name(name: str) -> str:
    """The name as wheel and sdist file names spell it (``my-pkg`` -> ``my_pkg``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _zip_date() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return _ZIP_DATE
    return max(_ZIP_DATE, time.gmtime(int(epoch))[:6])


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def write_wheel(
    directory: Path, name: str, version: str, platform_tags: list[str],
    files: dict[str, Path], metadata: str,
) -> str:
    """Writes ``<name>-<version>-py3-none-<platform_tags>.whl`` into ``directory`` with
    ``files`` (name in the wheel -> file) and the dist-info; returns the file name."""
    dist = distribution_name(name)
    dist_info = f"{dist}-{version}.dist-info"
    tags = [f"py3-none-{platform}" for platform in platform_tags]
    wheel_file = "\n".join(
        ["Wheel-Version: 1.0", "Generator: luarun_build", "Root-Is-Purelib: false"]
        + [f"Tag: {tag}" for tag in tags]
    ) + "\n"
    entries = [(arcname, path.read_bytes(), path.stat().st_mode) for arcname, path in files.items()]
    entries += [
        (f"{dist_info}/METADATA", metadata.encode(), 0o644),
        (f"{dist_info}/WHEEL", wheel_file.encode(), 0o644),
    ]
    filename = f"{dist}-{version}-py3-none-{'.'.join(platform_tags)}.whl"
    record = io.StringIO()
    with zipfile.ZipFile(directory / filename, "w", zipfile.ZIP_DEFLATED) as wheel:
        for arcname, data, mode in entries:
            info = zipfile.ZipInfo(arcname, _zip_date())
            info.external_attr = (stat.S_IFREG | (0o755 if mode & 0o111 else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
            record.write(f"{arcname},{_record_hash(data)},{len(data)}\n")
        record.write(f"{dist_info}/RECORD,,\n")
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", _zip_date())
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        wheel.writestr(info, record.getvalue())
    return filename


def write_sdist(
    directory: Path, name: str, version: str, files: dict[str, Path], pkg_info: str,
) -> str:
    """Writes ``<name>-<version>.tar.gz`` into ``directory`` with ``files`` (path in the
    sdist -> file) and ``PKG-INFO`` under ``<name>-<version>/``; returns the file name.
    Files keep their modification times (cargo's freshness checks use them)."""
    root = f"{distribution_name(name)}-{version}"
    filename = f"{root}.tar.gz"
    with open(directory / filename, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as compressed, \
            tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
        pkg_info_bytes = pkg_info.encode()
        info = tarfile.TarInfo(f"{root}/PKG-INFO")
        info.size, info.mode, info.mtime = len(pkg_info_bytes), 0o644, int(time.time())
        tar.addfile(info, io.BytesIO(pkg_info_bytes))
        for arcname, path in files.items():
            info = tar.gettarinfo(str(path), f"{root}/{arcname}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o755 if info.mode & 0o111 else 0o644
            with open(path, "rb") as file:
                tar.addfile(info, file)
    return filename
