"""Files the app makes for visitors to download (CSV exports, model zips), in one folder that cleans itself.

Each file gets its own unguessable sub-folder (the visible file name stays friendly); folders older than
`max_age_seconds` are deleted whenever a new download is made, so nothing piles up in the temp folder. The app puts
the folder inside gradio's cache folder: gradio then serves a file from where it is instead of copying it, so a
deleted file (a run's zip, deleted with the run) is no longer reachable.
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
        self._owners: dict[Path, str] = {}  # folder -> the visitor it was made for (the disk budget reads it)

    def new_path(self, filename: str, owner: str | None = None) -> Path:
        """A fresh path ending in `filename` (its folder exists; the file does not yet), made for visitor `owner`."""
        self.prune()
        folder = self.directory / secrets.token_urlsafe(9)
        folder.mkdir(parents=True)
        if owner is not None:
            self._owners[folder] = owner
        return folder / Path(filename).name

    def owner_of(self, folder: Path) -> str | None:
        return self._owners.get(folder)

    def zip_folder(self, folder: str | Path, filename: str, owner: str | None = None) -> Path:
        """A zip of `folder`'s files, stored without compression: safetensors weights do not deflate, so deflating
        an 90 MB model costs seconds for nothing, while storing it is a file copy."""
        import zipfile

        path = self.new_path(filename, owner)
        folder = Path(folder)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(folder))
        return path

    def zip_of(self, folder: str | Path, filename: str, attachments: list[Path], owner: str | None = None) -> Path:
        """A model folder's zip, made on the first request and reused after: its folder is added to `attachments` (the
        run's files, deleted with it), so the zip goes when the run goes.

        Example: zip_of(run.path, "finetuned-ab12cd.zip", run.attachments) -> <downloads>/<token>/finetuned-ab12cd.zip
        """
        for attached in attachments:
            made = attached / Path(filename).name
            if made.is_file():
                return made
        archive = self.zip_folder(folder, filename, owner)
        attachments.append(archive.parent)
        return archive

    def clear(self) -> None:
        """Delete every download (at start-up: no session outlives the process that made its files)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def prune(self, now: float | None = None) -> int:
        """Delete download folders older than the age limit; returns how many went."""
        if not self.directory.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - self.max_age_seconds
        old = [p for p in self.directory.iterdir() if p.is_dir() and p.stat().st_mtime < cutoff]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
            self._owners.pop(path, None)
        return len(old)
