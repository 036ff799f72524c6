using ZeroLane.Topics;

namespace ZeroLane.TestPeer;

/// <summary>The topic scenarios: a verifying (or sample-holding) subscriber and a patterned publisher.</summary>
internal static class TopicScenarios
{
    internal static int Subscriber(PeerArguments arguments, CancellationToken stop)
    {
        Topics.Subscriber subscriber;
        try
        {
            subscriber = new Topics.Subscriber(arguments.Name, new SubscriberOptions
            {
                MaxHeld = (int)(arguments.Number("max-held") ?? 4),
                Overflow = arguments.Number("block") == 1 ? OverflowPolicy.BlockPublisher : OverflowPolicy.DropOldest,
            });
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        using (subscriber)
        {
            Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
            if (arguments.Number("hold-samples") is long hold)
            {
                var held = new List<Sample>();
                for (int i = 0; i < hold; i++)
                {
                    held.Add(subscriber.Read(TimeSpan.FromSeconds(30), stop));
                }
                Console.WriteLine($"{PeerOutput.Holding} samples={held.Count}");
                stop.WaitHandle.WaitOne();
                held.ForEach(sample => sample.Dispose());
                return Scenarios.Bye();
            }
            if (arguments.Number("hold-rolling") is long rolling)
            {
                return ReadHoldingTheLatest(subscriber, (int)rolling, stop);
            }
            long count = arguments.Number("count") ?? 1;
            ulong previous = 0;
            for (long read = 0; read < count; read++)
            {
                ReadStatus status = subscriber.TryRead(out Sample sample, TimeSpan.FromSeconds(30), stop);
                if (status != ReadStatus.Success)
                {
                    Console.WriteLine($"{PeerOutput.Error} {status} after {read} of {count} samples");
                    return ExitCodes.VerificationFailed;
                }
                using (sample)
                {
                    if (sample.Sequence <= previous)
                    {
                        Console.WriteLine($"{PeerOutput.Error} SequenceOrder: {sample.Sequence} after {previous}");
                        return ExitCodes.VerificationFailed;
                    }
                    previous = sample.Sequence;
                    if (FramePattern.Verify(sample.Span, sample.Sequence) is { } problem)
                    {
                        Console.WriteLine($"{PeerOutput.Error} TornSample: seq={sample.Sequence} len={sample.Length}: {problem}");
                        return ExitCodes.VerificationFailed;
                    }
                }
            }
            Console.WriteLine($"{PeerOutput.Ok} samples={count} dropped={subscriber.SamplesDropped}");
        }
        return Scenarios.Bye();
    }

    /// <summary>
    /// Reads until stopped or killed, verifying every sample (bytes by sequence, sequences rising per publisher) and holding
    /// the latest <paramref name="keep"/> (releasing older ones), so that a kill always finds it holding samples.
    /// </summary>
    private static int ReadHoldingTheLatest(Topics.Subscriber subscriber, int keep, CancellationToken stop)
    {
        var held = new Queue<Sample>();
        var previous = new Dictionary<ulong, ulong>();
        bool told = false;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (subscriber.TryRead(out Sample sample, TimeSpan.FromSeconds(1), stop) != ReadStatus.Success)
                {
                    continue;
                }
                if (sample.Sequence <= previous.GetValueOrDefault(sample.PublisherId))
                {
                    Console.WriteLine($"{PeerOutput.Error} SequenceOrder: {sample.Sequence} after {previous[sample.PublisherId]}");
                    return ExitCodes.VerificationFailed;
                }
                previous[sample.PublisherId] = sample.Sequence;
                if (FramePattern.Verify(sample.Span, sample.Sequence) is { } problem)
                {
                    Console.WriteLine($"{PeerOutput.Error} TornSample: seq={sample.Sequence} len={sample.Length}: {problem}");
                    return ExitCodes.VerificationFailed;
                }
                held.Enqueue(sample);
                if (held.Count > keep)
                {
                    held.Dequeue().Dispose();
                }
                if (!told && held.Count == keep)
                {
                    Console.WriteLine($"{PeerOutput.Holding} samples={held.Count}");
                    told = true;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return Scenarios.Bye();
    }

    internal static int Publisher(PeerArguments arguments, CancellationToken stop)
    {
        int size = (int)(arguments.Number("size") ?? 1024);
        Topics.Publisher publisher;
        try
        {
            publisher = new Topics.Publisher(arguments.Name, new PublisherOptions
            {
                MaxSampleSize = size,
                Slots = (int)(arguments.Number("slots") ?? 8),
                QueueDepth = (int)(arguments.Number("depth") ?? 4),
                AcknowledgeTimeout = TimeSpan.FromSeconds(30),
            });
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        using (publisher)
        {
            Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
            long subscribers = arguments.Number("subscribers") ?? 0;
            while (publisher.SubscriberCount < subscribers && !stop.IsCancellationRequested)
            {
                Thread.Sleep(1);
            }
            long count = arguments.Number("count") ?? 1;
            // --grow-to B: sample sizes climb from --size to B over the stream, so the publisher grows on the way.
            int last = (int)(arguments.Number("grow-to") ?? size);
            byte[] buffer = new byte[Math.Max(size, last)];
            for (ulong sequence = 1; sequence <= (ulong)count; sequence++)
            {
                int length = size + (int)((long)(last - size) * (long)(sequence - 1) / Math.Max(1, count - 1));
                Span<byte> sample = buffer.AsSpan(0, length);
                FramePattern.Fill(sample, sequence);
                publisher.Write(sample, TimeSpan.FromSeconds(30), stop);
            }
            Console.WriteLine($"{PeerOutput.Written} samples={count} growths={publisher.GrowthCount}");
            if (arguments.Has("forever"))
            {
                return PublishUntilKilled(publisher, (ulong)count + 1, size, arguments.Number("every-ms"), stop);
            }
            Scenarios.Hold(arguments, stop);
        }
        return Scenarios.Bye();
    }

    /// <summary>Goes on publishing patterned samples of varied lengths, from <paramref name="sequence"/> on, until stopped or killed.</summary>
    private static int PublishUntilKilled(Topics.Publisher publisher, ulong sequence, int size, long? everyMilliseconds, CancellationToken stop)
    {
        byte[] buffer = new byte[size];
        try
        {
            for (; !stop.IsCancellationRequested; sequence++)
            {
                Span<byte> sample = buffer.AsSpan(0, FramePattern.VariedLength(sequence, size));
                FramePattern.Fill(sample, sequence);
                publisher.Write(sample, TimeSpan.FromSeconds(30), stop);
                if (everyMilliseconds is long pause)
                {
                    Thread.Sleep((int)pause);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return Scenarios.Bye();
    }
}
