"""Domain writes of the annotations app, one module per concern (routing, flow, projects, importing, ...)."""
