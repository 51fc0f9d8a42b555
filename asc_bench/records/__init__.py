"""Result records: the schema, reading and writing them, the environment they capture, the trial-folder layout."""
