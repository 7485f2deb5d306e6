"""One module per migration; parts that own tables add theirs here."""
