"""Failover drills: the system past one machine, under load, losing the part that leads.

    make drill-cluster   (python -m tools.drill cluster)  a RabbitMQ node
    make drill-redis     (python -m tools.drill redis)    the Redis primary

``cluster`` starts a private 3-node RabbitMQ cluster on loopback (``tools.devstack.
rabbitmq_cluster``), declares the task queue so that all three nodes hold a replica of it,
points a gateway and two workers at every node (the queue's leader first), and SIGKILLs the
leader in the middle of the uploads; later it restarts that node. ``redis`` runs the gateway and
workers against a private primary, a replica and three Sentinels (``tools.devstack.
redis_sentinel``), workers waiting for a replica before each ack, and SIGKILLs the primary in
the middle of the uploads; Sentinel promotes the replica, and the old primary later rejoins as a
replica. Both print the chaos run's table (``tools.chaos.report``), ending ``lost: N``, and exit
1 when anything was lost. Loopback only; the machine's own RabbitMQ and Redis are not touched,
and everything a drill started is stopped when it ends, fails or is interrupted.

Modules: ``cluster``, ``redis_failover`` (each drill: its setup and its disruption),
``__main__`` (the command line).
"""
