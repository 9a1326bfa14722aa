"""spekpy reads its spectra tables from spekpy/data at run time; the version is read too."""

from PyInstaller.utils.hooks import collect_data_files, copy_metadata

datas = collect_data_files("spekpy") + copy_metadata("spekpy")
