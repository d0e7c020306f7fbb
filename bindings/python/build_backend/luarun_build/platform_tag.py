"""The wheel's platform tags, from what the built libraries need.

On Linux the libraries need the glibc of the machine they were built on, at most: the
newest ``GLIBC_x.y`` symbol version they import sets the manylinux tag (PEP 600), as
``auditwheel show`` reports it (``make test-wheel`` checks they agree). Libraries that
link outside the manylinux set, or that this reader cannot read (not 64-bit
little-endian ELF, musl), get the plain ``linux_<arch>`` tag. Other systems get
``sysconfig``'s platform."""

from __future__ import annotations

import re
import struct
import sys
import sysconfig
from pathlib import Path
from typing import NamedTuple

#: Libraries every manylinux policy lets a wheel link against (the ones Rust uses).
MANYLINUX_LIBRARIES = frozenset({
    "libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0",
    "libgcc_s.so.1", "libstdc++.so.6", "libutil.so.1", "libresolv.so.2",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
})
_GLIBC_VERSION = re.compile(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?")
_SHT_DYNAMIC, _SHT_GNU_VERNEED, _DT_NULL, _DT_NEEDED = 6, 0x6FFFFFFE, 0, 1


class _Section(NamedTuple):
    type: int
    offset: int
    size: int
    link: int
    info: int


class LinkNeeds(NamedTuple):
    """What a shared library needs from the system."""

    libraries: list[str]
    #: ``GLIBC_*`` symbol versions, as written (``GLIBC_2.34``, ``GLIBC_PRIVATE``).
    glibc_versions: set[str]


def read_link_needs(path: Path) -> LinkNeeds | None:
    """DT_NEEDED entries and GLIBC symbol versions of a 64-bit little-endian ELF file;
    None for any other file."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    (section_offset,) = struct.unpack_from("<Q", data, 0x28)
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for index in range(count):
        fields = struct.unpack_from("<IIQQQQIIQQ", data, section_offset + index * entry_size)
        sections.append(_Section(fields[1], fields[4], fields[5], fields[6], fields[7]))

    def string(table: int, offset: int) -> str:
        start = sections[table].offset + offset
        return data[start:data.index(b"\0", start)].decode("ascii", "replace")

    needs = LinkNeeds([], set())
    for section in sections:
        if section.type == _SHT_DYNAMIC:
            for entry in range(section.offset, section.offset + section.size, 16):
                tag, value = struct.unpack_from("<qQ", data, entry)
                if tag == _DT_NULL:
                    break
                if tag == _DT_NEEDED:
                    needs.libraries.append(string(section.link, value))
        elif section.type == _SHT_GNU_VERNEED:
            # section.info Verneed records, each with its chain of Vernaux records.
            need = section.offset
            for _ in range(section.info):
                _, aux_count, _, aux_offset, next_need = struct.unpack_from("<HHIII", data, need)
                aux = need + aux_offset
                for _ in range(aux_count):
                    _, _, _, name, next_aux = struct.unpack_from("<IHHII", data, aux)
                    version = string(section.link, name)
                    if version.startswith("GLIBC_"):
                        needs.glibc_versions.add(version)
                    aux += next_aux
                need += next_need
    return needs


def _manylinux_tags(libraries: list[Path], arch: str) -> list[str] | None:
    newest = (2, 17)  # Rust's own floor for linux-gnu targets
    for library in libraries:
        needs = read_link_needs(library)
        if needs is None or not needs.glibc_versions:
            return None
        outside = set(needs.libraries) - MANYLINUX_LIBRARIES
        if outside:
            print(f"luarun build: {library.name} links {sorted(outside)}, outside the "
                  "manylinux set: tagging the wheel linux", file=sys.stderr)
            return None
        for version in needs.glibc_versions:
            match = _GLIBC_VERSION.fullmatch(version)
            if match is None:  # GLIBC_PRIVATE: no manylinux policy allows it
                return None
            newest = max(newest, (int(match.group(1)), int(match.group(2))))
    tags = [f"manylinux_{newest[0]}_{newest[1]}_{arch}"]
    if newest == (2, 17):
        tags.append(f"manylinux2014_{arch}")  # the same policy's name for pip < 20.3
    return tags


def platform_tags(libraries: list[Path]) -> list[str]:
    """The wheel's platform tags (a compressed tag set), most specific first."""
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    if platform.startswith("linux_"):
        return _manylinux_tags(libraries, platform[len("linux_"):]) or [platform]
    return [platform]
