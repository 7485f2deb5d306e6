"""The pure core: entries, folder setups, the sage-ge check and its catalogue. No I/O."""
