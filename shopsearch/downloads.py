"""Files the app makes for visitors to download (CSV exports, model zips), in one folder that cleans itself.

Each file gets its own unguessable sub-folder (the visible file name stays friendly); folders older than
`max_age_seconds` are deleted whenever a new download is made, so nothing piles up in the temp folder.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from pathlib import Path


class Downloads:
    def __init__(self, directory: str | Path | None = None, max_age_seconds: int = 3600) -> None:
        self.directory = Path(directory or Path(tempfile.gettempdir()) / "shopsearch-downloads")
        self.max_age_seconds = max_age_seconds

    def new_path(self, filename: str) -> Path:
        """A fresh path ending in `filename` (its folder exists; the file does not yet)."""
        self.prune()
        folder = self.directory / secrets.token_urlsafe(9)
        folder.mkdir(parents=True)
        return folder / Path(filename).name

    def zip_folder(self, folder: str | Path, filename: str) -> Path:
        """A zip of `folder`'s files, stored without compression: safetensors weights do not deflate, so deflating
        an 90 MB model costs seconds for nothing, while storing it is a file copy."""
        import zipfile

        path = self.new_path(filename)
        folder = Path(folder)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(folder))
        return path

    def prune(self, now: float | None = None) -> int:
        """Delete download folders older than the age limit; returns how many went."""
        if not self.directory.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - self.max_age_seconds
        old = [p for p in self.directory.iterdir() if p.is_dir() and p.stat().st_mtime < cutoff]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
        return len(old)
