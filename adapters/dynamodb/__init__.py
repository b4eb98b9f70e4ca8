"""DynamoDB on the fast path: the calls automation makes most, answered over moto's own
storage without moto's HTTP emulation (:mod:`.wire`), for the expressions read exactly
(:mod:`.expressions`), in key order kept per partition (:mod:`.index`)."""
