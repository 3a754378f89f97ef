"""The results folder's files, shared by the driver that writes them and the report and
``ftbench status`` that read them: the tables' columns and their locked, whole-row writer
(``tables``), the check every reader applies (``csv_check``), the fingerprint of what decides
the numbers (``fingerprint``), the whole folder as a run finds it at its start, read once
(``folder_state``), where a run stands (``status``), where the report goes
(``layout``) and the folder as one archive that travels between machines (``archive``).
"""

__all__ = ["archive", "csv_check", "fingerprint", "folder_state", "layout", "status",
           "tables"]
