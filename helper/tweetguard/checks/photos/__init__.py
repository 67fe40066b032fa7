"""Photo checks: what an attached file shows and carries, and who is pictured.

decode (open safely) -> metadata (where, who, when) and faces (how many, where)
-> report (one file's verdict, kept by SHA-256) -> pictured (the teacher's answers
against the consent register). clean and blur make the remedies' copies.
"""
