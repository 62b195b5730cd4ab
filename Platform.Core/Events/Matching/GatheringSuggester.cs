namespace Platform.Core.Events.Matching;

public sealed record AvailabilitySlot(DateTimeOffset Start, DateTimeOffset End)
{
    public bool Covers(DateTimeOffset start, DateTimeOffset end) => Start <= start && end <= End;
}

public sealed record GatheringCandidate(string AttendeeId, IReadOnlyCollection<string> Interests, IReadOnlyList<AvailabilitySlot> Availability, bool ConsentToInvites = true);

public sealed record GatheringSuggestion(string Topic, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<string> Invitees, IReadOnlyList<string> SharedInterests);

public sealed record GatheringSlot(IReadOnlyCollection<string> TopicTags, DateTimeOffset Start, DateTimeOffset End, int Capacity, IReadOnlyCollection<string> AlreadyInvited);

/// <summary>
/// Suggests small gatherings: clusters of attendees who share an interest and are all free for the
/// same window, never more than the capacity, each attendee in at most one suggestion. Greedy: take
/// the (interest, window) with the most free, consenting people; invite those whose other interests
/// overlap the cluster most; remove them; repeat. Greedy is explainable ("12 people into fintech are
/// free Tuesday 14:00") and fast; it is not an optimal partition.
/// </summary>
public static class GatheringSuggester
{
    public const string Version = "gathering-suggest/1";

    public static IReadOnlyList<GatheringSuggestion> Suggest(IReadOnlyList<GatheringCandidate> candidates, TimeSpan duration,
        int capacity, int minimumSize = 3, int maxSuggestions = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (duration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(duration));
        var pool = candidates.Where(c => c.ConsentToInvites).ToList();
        var tagsOf = pool.ToDictionary(c => c.AttendeeId, c => c.Interests.Select(MatchingIndex.NormaliseTag).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        // Candidate windows start where someone's availability starts; ordered so results are deterministic.
        var windows = pool.SelectMany(c => c.Availability).Where(s => s.End - s.Start >= duration)
            .Select(s => s.Start).Distinct().Order().ToList();
        var suggestions = new List<GatheringSuggestion>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        while (suggestions.Count < maxSuggestions)
        {
            (string Tag, DateTimeOffset Start, List<GatheringCandidate> People)? best = null;
            foreach (var start in windows)
            {
                var end = start + duration;
                var free = pool.Where(c => !taken.Contains(c.AttendeeId) && c.Availability.Any(s => s.Covers(start, end))).ToList();
                if (free.Count < minimumSize) continue;
                foreach (var group in free.SelectMany(c => tagsOf[c.AttendeeId].Select(t => (Tag: t, Person: c))).GroupBy(x => x.Tag).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var people = group.Select(g => g.Person).ToList();
                    var size = Math.Min(people.Count, capacity);
                    if (size < minimumSize) continue;
                    // Strictly larger wins, so ties go to the earliest window, then the alphabetically first interest.
                    if (best is null || size > Math.Min(best.Value.People.Count, capacity)) best = (group.Key, start, people);
                }
            }
            if (best is null) break;
            var (tag, s0, members) = best.Value;
            // Rank by how many of their interests the rest of the cluster shares: the most cohesive people get the seats.
            var tagCounts = members.SelectMany(m => tagsOf[m.AttendeeId]).GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
            var invitees = members
                .OrderByDescending(m => tagsOf[m.AttendeeId].Sum(t => tagCounts[t] - 1))
                .ThenBy(m => m.AttendeeId, StringComparer.Ordinal)
                .Take(capacity).ToList();
            var shared = invitees.SelectMany(m => tagsOf[m.AttendeeId]).GroupBy(t => t)
                .Where(g => g.Count() >= 2).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).Take(5).ToList();
            suggestions.Add(new GatheringSuggestion(tag, s0, s0 + duration, invitees.Select(i => i.AttendeeId).ToList(), shared));
            foreach (var i in invitees) taken.Add(i.AttendeeId);
        }
        return suggestions;
    }

    /// <summary>
    /// Who to invite to an existing gathering: consenting, not yet invited, free for the whole time,
    /// sharing at least one topic tag; ranked by Jaccard overlap with the topic tags, up to the free seats.
    /// </summary>
    public static IReadOnlyList<string> InviteesFor(GatheringSlot gathering, IReadOnlyList<GatheringCandidate> candidates)
    {
        var seats = gathering.Capacity - gathering.AlreadyInvited.Count;
        if (seats <= 0) return [];
        var topic = gathering.TopicTags.Select(MatchingIndex.NormaliseTag).ToHashSet(StringComparer.Ordinal);
        var invited = gathering.AlreadyInvited.ToHashSet(StringComparer.Ordinal);
        return candidates
            .Where(c => c.ConsentToInvites && !invited.Contains(c.AttendeeId) && c.Availability.Any(s => s.Covers(gathering.Start, gathering.End)))
            .Select(c =>
            {
                var tags = c.Interests.Select(MatchingIndex.NormaliseTag).ToHashSet(StringComparer.Ordinal);
                var common = tags.Count(topic.Contains);
                return (c.AttendeeId, Common: common, Jaccard: common == 0 ? 0 : (double)common / (tags.Count + topic.Count - common));
            })
            .Where(x => x.Common > 0)
            .OrderByDescending(x => x.Jaccard).ThenBy(x => x.AttendeeId, StringComparer.Ordinal)
            .Take(seats).Select(x => x.AttendeeId).ToList();
    }
}
