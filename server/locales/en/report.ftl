# The inspection report page in English.
