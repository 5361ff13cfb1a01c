"""Stage functions: load inputs, call the pure core, write outputs, log. One module per stage."""
