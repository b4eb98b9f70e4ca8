"""Route 53 emulation on top of moto: state and validation (:mod:`.models`), request
handling (:mod:`.responses`, :mod:`.wire`, :mod:`.reads`), value rules and errors."""
