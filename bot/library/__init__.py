"""The data layer: the cable store, importer, mirror client, month index and CableLibrary."""
