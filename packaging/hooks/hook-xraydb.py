"""xraydb opens xraydb/xraydb.sqlite at run time; engine.synth keys its cache on the version."""

from PyInstaller.utils.hooks import collect_data_files, copy_metadata

datas = collect_data_files("xraydb") + copy_metadata("xraydb")
hiddenimports = ["sqlalchemy.dialects.sqlite"]
